package dev.finetune.trainer.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoraTest {

    @TempDir
    Path tmp;

    static LoraSettings dora(TargetModule... targets) {
        return new LoraSettings(4, 8, 0, Set.of(targets), LoraBias.NONE, false, true, LoraInit.DEFAULT);
    }

    static NDArray magnitude(LoraModel lora, LoraAdapter adapter) {
        return lora.trainable().get("base_model.model." + adapter.modulePath() + ".lora_magnitude_vector");
    }

    /** B random and magnitude perturbed, so every DoRA term matters. */
    static LoraModel perturbed(LoraModel lora, long seed) {
        return LoraPerturbation.perturb(lora, seed, 0.05, 0.2);
    }

    @Test
    void doraStartsAtTheBaseModelWithMagnitudeEqualToRowNorms() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m)) {
            float[] before = LoraModelTest.logits(model, m, 1, 2, 3, 4);
            try (LoraModel lora = LoraModel.attach(model, dora(TargetModule.Q_PROJ, TargetModule.V_PROJ), 1)) {
                LoraAdapter q = lora.adapters().getFirst();
                float[] w = model.layers().getFirst().linears().getFirst().weight().toFloatArray();
                float[] mag = magnitude(lora, q).toFloatArray();
                for (int o = 0; o < mag.length; o++) {
                    double ss = 0;
                    for (int i = 0; i < 32; i++) {
                        ss += w[o * 32 + i] * w[o * 32 + i];
                    }
                    assertThat((double) mag[o]).isCloseTo(Math.sqrt(ss), within(1e-5));
                }
                assertThat(LoraModelTest.maxDiff(LoraModelTest.logits(model, m, 1, 2, 3, 4), before)).isLessThan(1e-5);
                assertThat(lora.trainable()).containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector");
            }
        }
    }

    @Test
    void doraLinearEqualsThePaperFormula() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m);
                LoraModel lora = perturbed(LoraModel.attach(model, dora(TargetModule.K_PROJ), 2), 4)) {
            Linear k = model.layers().getFirst().linears().get(1);
            LoraAdapter adapter = lora.adapters().getFirst();
            float[] x = new float[32];
            for (int i = 0; i < 32; i++) {
                x[i] = (float) Math.cos(i * 0.7);
            }
            float[] y = k.forward(m.create(x, new Shape(1, 32)), ForwardContext.inference(Engine.kernels())).toFloatArray();
            int out = (int) k.outFeatures();
            float[] w = k.weight().toFloatArray();
            float[] bias = k.bias().toFloatArray();
            float[] a = adapter.a().toFloatArray();
            float[] b = adapter.b().toFloatArray();
            float[] mag = magnitude(lora, adapter).toFloatArray();
            double s = adapter.scaling();
            for (int o = 0; o < out; o++) {
                // W' = W + s B A; y = m / ||W'_o|| * (W' x)_o + bias_o
                double norm = 0;
                double wx = 0;
                for (int i = 0; i < 32; i++) {
                    double ba = 0;
                    for (int r = 0; r < 4; r++) {
                        ba += b[o * 4 + r] * a[r * 32 + i];
                    }
                    double wi = w[o * 32 + i] + s * ba;
                    norm += wi * wi;
                    wx += wi * x[i];
                }
                double expected = mag[o] / Math.sqrt(norm) * wx + bias[o];
                assertThat((double) y[o]).as("row %d", o).isCloseTo(expected, within(1e-4));
            }
        }
    }

    @Test
    void mergedDoraEqualsUnmergedAndUnmergeRestoresAndAdapterRoundTrips() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m)) {
            float[] base = LoraModelTest.logits(model, m, 7, 8, 9);
            float[] adapted;
            try (LoraModel lora = perturbed(LoraModel.attach(model, dora(TargetModule.ALL_LINEAR), 3), 5)) {
                adapted = LoraModelTest.logits(model, m, 7, 8, 9);
                assertThat(LoraModelTest.maxDiff(adapted, base)).isGreaterThan(1e-3);
                lora.merge();
                assertThat(LoraModelTest.maxDiff(LoraModelTest.logits(model, m, 7, 8, 9), adapted)).isLessThan(1e-4);
                lora.unmerge();
                assertThat(LoraModelTest.maxDiff(LoraModelTest.logits(model, m, 7, 8, 9), adapted)).isLessThan(1e-4);
                PeftAdapter.write(tmp.resolve("dora"), lora, "tiny", false);
            }
            assertThat(LoraModelTest.maxDiff(LoraModelTest.logits(model, m, 7, 8, 9), base)).isLessThan(1e-4);
            PeftAdapter.Loaded loaded = PeftAdapter.read(tmp.resolve("dora"));
            assertThat(loaded.config().path("use_dora").asBoolean()).isTrue();
            assertThat(loaded.shapes().get("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector"))
                    .containsExactly(32);
            try (LoraModel again = PeftAdapter.attach(model, tmp.resolve("dora"))) {
                // the base weights went through merge/unmerge: equal up to fp32 rounding
                assertThat(LoraModelTest.maxDiff(LoraModelTest.logits(model, m, 7, 8, 9), adapted)).isLessThan(1e-4);
            }
        }
    }

    @Test
    void magnitudeAndBothFactorsReceiveGradients() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = perturbed(LoraModel.attach(model, dora(TargetModule.O_PROJ), 1), 9)) {
            LoraModelTest.backwardOfSquaredLogits(model, m, 1, 2, 3, 4);
            for (NDArray p : lora.trainable().values()) {
                double g = 0;
                for (float v : p.getGradient().toFloatArray()) {
                    g += Math.abs(v);
                }
                assertThat(g).isGreaterThan(0);
            }
        }
    }
}
