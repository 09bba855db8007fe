package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.script.Kernels;
import java.util.Map;

/**
 * DoRA (weight-decomposed LoRA): a trainable magnitude m [out] rescales each output row of the adapted weight
 * to {@code m / ||W + scaling B A||_row}. m starts at the row norms of W, so with B = 0 DoRA starts equal to
 * the base model. PEFT saves m as {@code <module>.lora_magnitude_vector} (no ".weight" suffix).
 */
public final class DoraVariant implements LoraVariant {

    private final Linear linear;
    private final NDArray magnitude;
    private final NDArray zeroBias;
    private NDArray mergeFactor;

    private DoraVariant(Linear linear, NDArray magnitude, NDArray zeroBias) {
        this.linear = linear;
        this.magnitude = magnitude;
        this.zeroBias = zeroBias;
    }

    /** The variant for {@code linear}, its magnitude initialised to the row norms of the frozen weight. */
    static DoraVariant init(Linear linear, Kernels kernels, NDManager manager) {
        NDArray magnitude = kernels.rowNorm(linear.weight());
        magnitude.attach(manager);
        return new DoraVariant(linear, magnitude, manager.zeros(new Shape(1), DataType.FLOAT32));
    }

    @Override
    public NDArray forward(LoraAdapter adapter, NDArray x, NDArray base, ForwardContext context) {
        // PEFT removes the base layer's bias from the rescaled base term (a zero vector when it has none)
        NDArray bias = linear.bias() != null ? linear.bias() : zeroBias;
        return context.kernels().doraDelta(x, base, linear.weight(), bias, adapter.a(), adapter.b(), magnitude,
                adapter.scaling(), adapter.dropout(), context.training());
    }

    /** {@code W = m / ||W + delta||_row * (W + delta)}; the factor is kept to undo it exactly. */
    @Override
    public NDArray merge(NDArray weight, NDArray delta, Kernels kernels, NDManager keep) {
        NDArray adapted = weight.add(delta);
        NDArray factor = magnitude.div(kernels.rowNorm(adapted)).expandDims(1);
        factor.attach(keep);
        if (mergeFactor != null && mergeFactor != factor) {
            mergeFactor.close();
        }
        mergeFactor = factor;
        return adapted.mul(factor);
    }

    @Override
    public NDArray unmerge(NDArray merged, NDArray delta) {
        return merged.div(mergeFactor).sub(delta);
    }

    @Override
    public Map<String, NDArray> parameters(String modulePath) {
        return Map.of("base_model.model." + modulePath + ".lora_magnitude_vector", magnitude);
    }
}
