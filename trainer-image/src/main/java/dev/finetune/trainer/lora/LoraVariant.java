package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.script.Kernels;
import java.util.Map;

/**
 * What a LoRA variant changes about an adapted layer, as PEFT's {@code LoraVariant}: the forward pass, how the
 * adapter folds into the base weight and back, and the tensors it trains besides A and B. {@link #PLAIN} is
 * LoRA itself; {@link DoraVariant} is DoRA.
 */
public interface LoraVariant {

    /** Plain LoRA: {@code y = W x + B(A(dropout(x))) * scaling}; nothing trained besides A and B. */
    LoraVariant PLAIN = new LoraVariant() {
        @Override
        public NDArray forward(LoraAdapter adapter, NDArray x, NDArray base, ForwardContext context) {
            return context.kernels().loraDelta(x, base, adapter.a(), adapter.b(), adapter.scaling(), adapter.dropout(),
                    context.training());
        }

        @Override
        public NDArray merge(NDArray weight, NDArray delta, Kernels kernels, NDManager keep) {
            return weight.add(delta);
        }

        @Override
        public NDArray unmerge(NDArray merged, NDArray delta) {
            return merged.sub(delta);
        }
    };

    /** The adapted layer's output, given the frozen layer's output {@code base} for input {@code x}. */
    NDArray forward(LoraAdapter adapter, NDArray x, NDArray base, ForwardContext context);

    /** The merged fp32 weight from the fp32 base weight and {@code delta = scaling B A}; {@code keep} owns what must outlive the call. */
    NDArray merge(NDArray weight, NDArray delta, Kernels kernels, NDManager keep);

    /** The fp32 base weight back from a weight {@link #merge} produced. */
    NDArray unmerge(NDArray merged, NDArray delta);

    /** Trained tensors besides A and B, by PEFT key under the adapted module {@code modulePath}. */
    default Map<String, NDArray> parameters(String modulePath) {
        return Map.of();
    }
}
