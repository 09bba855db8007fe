package dev.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraPerturbation;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The one-call decoder layer computes exactly what the kernel-by-kernel layer computes: the same output, the
 * same gradients of every trained tensor and of the input, bit for bit, with dropout (the same masks), trained
 * biases, Qwen3's q/k norms and a packed mask.
 */
class DecoderLayerOneCallTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}, dropout {1}, packed {2}, {3}")
    @CsvSource({
        "llama, 0.0, false, FLOAT32",
        "llama, 0.2, true, FLOAT32",
        "qwen2, 0.1, false, FLOAT32",
        "qwen3, 0.1, true, FLOAT32",
        "qwen3, 0.0, false, BFLOAT16",
        "qwen2, 0.1, true, BFLOAT16",
    })
    void oneCallEqualsKernelByKernel(String type, double dropout, boolean packed, DataType dtype) {
        TinyModels.Spec spec = switch (type) {
            case "qwen2" -> TinyModels.Spec.qwen2();
            case "qwen3" -> TinyModels.Spec.qwen3();
            default -> TinyModels.Spec.llama();
        };
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, spec, dtype, m)) {
            LoraSettings settings = new LoraSettings(4, 8, dropout, Set.of(TargetModule.ALL_LINEAR), LoraBias.ALL,
                    false, false, LoraInit.DEFAULT);
            try (LoraModel lora = LoraPerturbation.perturb(LoraModel.attach(model, settings, 3), 5, 0.05, 0)) {
                DecoderLayer layer = model.layers().get(1);
                assertThat(layer.oneCallArguments()).as("plain LoRA runs in one call").isNotNull();
                Pass oneCall = pass(model, lora, m, packed, true);
                Pass reference = pass(model, lora, m, packed, false);
                assertThat(oneCall.output).containsExactly(reference.output);
                assertThat(oneCall.gradients.keySet()).isEqualTo(reference.gradients.keySet());
                reference.gradients.forEach((name, g) -> assertThat(oneCall.gradients.get(name)).as(name).containsExactly(g));
                // the gradients reach every trained tensor of the layer: the comparison is not between zeros
                long nonZero = oneCall.gradients.values().stream()
                        .filter(g -> { for (float v : g) { if (v != 0) { return true; } } return false; })
                        .count();
                assertThat(nonZero).isEqualTo(oneCall.gradients.size());
            }
        }
    }

    private record Pass(float[] output, Map<String, float[]> gradients) {}

    /** One training forward and backward of layer 1 on a fixed input, by the one call or kernel by kernel. */
    private static Pass pass(DecoderModel model, LoraModel lora, NDManager parent, boolean packed, boolean oneCall) {
        try (NDManager m = parent.newSubManager()) {
            DecoderLayer layer = model.layers().get(1);
            int rows = 2;
            int length = 6;
            long[] ids = new long[rows * length];
            long[] positions = new long[rows * length];
            long[] segments = new long[rows * length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7 + 3) % model.config().vocabSize();
                int t = i % length;
                segments[i] = packed && t >= 4 ? 1 : 0;
                positions[i] = packed && t >= 4 ? t - 4 : t;
            }
            NDArray x = Autograd.leaf(Autograd.withoutGrad(() -> model.embed(m.create(ids, new Shape(rows, length)))));
            NDArray[] cosSin = model.cosSin(m.create(positions, new Shape(rows, length)), x);
            NDArray mask = packed ? DecoderModel.packedMask(m, segments, rows, length) : null;
            ForwardContext ctx = new ForwardContext(model.kernels(), true, 42);
            NDArray out = Autograd.withGrad(() -> {
                ctx.seedLayer(1);
                return oneCall ? layer.forward(x, cosSin, mask, null, ctx)
                        : layer.forwardKernelByKernel(x, cosSin, mask, null, ctx);
            });
            NDArray upstream = Autograd.withoutGrad(() -> model.kernels().cast(
                    model.kernels().cast(out, DataType.FLOAT32).mul(0.5).add(0.25), model.kernels().dtypeOf(out)));
            Autograd.backward(out, upstream);
            Map<String, float[]> gradients = new LinkedHashMap<>();
            gradients.put("input", fp32(model, x.getGradient()));
            lora.trainable().forEach((name, p) -> {
                if (name.contains("layers.1.")) {
                    gradients.put(name, p.getGradient().toFloatArray());
                    Autograd.zeroGradient(p);
                }
            });
            return new Pass(fp32(model, out), gradients);
        }
    }

    private static float[] fp32(DecoderModel model, NDArray x) {
        return Autograd.withoutGrad(() -> model.kernels().cast(x, DataType.FLOAT32).toFloatArray());
    }
}
