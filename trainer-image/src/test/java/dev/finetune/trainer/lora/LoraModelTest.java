package dev.finetune.trainer.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraModelTest {

    @TempDir
    Path tmp;

    static float[] logits(DecoderModel model, NDManager m, long... ids) {
        long[] pos = new long[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        return model.logits(m.create(ids, new Shape(1, ids.length)), m.create(pos, new Shape(1, ids.length))).toFloatArray();
    }

    /** Back-propagates mean(logits^2) of one sequence through the model, so every trained tensor gets a gradient. */
    static void backwardOfSquaredLogits(DecoderModel model, NDManager m, long... ids) {
        long[] pos = new long[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        NDArray loss = Autograd.withGrad(() -> {
            NDArray h = model.hiddenStates(m.create(ids, new Shape(1, ids.length)), m.create(pos, new Shape(1, ids.length)),
                    null, null, ForwardContext.inference(Engine.kernels()));
            return Engine.kernels().logits(h, model.lmHead()).pow(2).mean();
        });
        Autograd.withGrad(() -> {
            Autograd.backward(loss, m.ones(new Shape()));
            return null;
        });
    }

    static void randomizeB(LoraModel lora, long seed) {
        Random r = new Random(seed);
        Map<String, float[]> values = new java.util.LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> {
            float[] x = v.toFloatArray();
            if (k.endsWith("lora_B.weight")) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (r.nextGaussian() * 0.05);
                }
            }
            values.put(k, x);
        });
        lora.load(values);
    }

    @Test
    void zeroInitialisedBLeavesTheModelUnchanged() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m)) {
            float[] before = logits(model, m, 1, 2, 3, 4);
            try (LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.ALL_LINEAR), 1)) {
                assertThat(logits(model, m, 1, 2, 3, 4)).containsExactly(before);
            }
        }
    }

    @Test
    void adaptedLinearEqualsDirectComputation() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, new LoraSettings(2, 6, 0, Set.of(TargetModule.Q_PROJ), LoraBias.NONE, true, false, LoraInit.DEFAULT), 3)) {
            randomizeB(lora, 5);
            Linear q = model.layers().get(0).linears().get(0);
            LoraAdapter adapter = lora.adapters().get(0);
            assertThat(adapter.modulePath()).isEqualTo("model.layers.0.self_attn.q_proj");
            assertThat(adapter.scaling()).isCloseTo(6 / Math.sqrt(2), within(1e-12)); // rsLoRA
            float[] x = new float[32];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i);
            }
            float[] y = q.forward(m.create(x, new Shape(1, 32)), ForwardContext.inference(Engine.kernels())).toFloatArray();
            float[] w = q.weight().toFloatArray();
            float[] a = adapter.a().toFloatArray();
            float[] b = adapter.b().toFloatArray();
            for (int o = 0; o < 32; o++) {
                double base = 0;
                for (int i = 0; i < 32; i++) {
                    base += w[o * 32 + i] * x[i];
                }
                double delta = 0;
                for (int r = 0; r < 2; r++) {
                    double ax = 0;
                    for (int i = 0; i < 32; i++) {
                        ax += a[r * 32 + i] * x[i];
                    }
                    delta += b[o * 2 + r] * ax;
                }
                assertThat((double) y[o]).isCloseTo(base + adapter.scaling() * delta, within(1e-4));
            }
        }
    }

    @Test
    void initialisationFollowsPeft() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(8, 16, TargetModule.Q_PROJ, TargetModule.DOWN_PROJ), 9)) {
            assertThat(lora.adapters()).hasSize(4);
            for (LoraAdapter a : lora.adapters()) {
                long in = a.a().getShape().get(1);
                double bound = 1 / Math.sqrt(in);
                float[] av = a.a().toFloatArray();
                double maxAbs = 0;
                for (float v : av) {
                    maxAbs = Math.max(maxAbs, Math.abs(v));
                }
                assertThat(maxAbs).isLessThanOrEqualTo(bound).isGreaterThan(0.8 * bound);
                assertThat(a.b().toFloatArray()).containsOnly(0f);
                assertThat(a.scaling()).isEqualTo(2.0);
            }
            // down_proj: A [r, intermediate], B [hidden, r]
            assertThat(lora.adapters().get(1).a().getShape()).isEqualTo(new Shape(8, 64));
            assertThat(lora.adapters().get(1).b().getShape()).isEqualTo(new Shape(32, 8));
        }
    }

    @Test
    void trainableSummaryCountsLikePeft() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(2, 4, TargetModule.ALL_LINEAR), 1)) {
            // per layer: q 2*(32+32) k 2*(32+16) v 2*(32+16) o 2*(32+32) gate 2*(32+64) up 2*(32+64) down 2*(64+32)
            long perLayer = 2 * (64 + 48 + 48 + 64 + 96 + 96 + 96);
            assertThat(lora.trainableParameterCount()).isEqualTo(2 * perLayer);
            // base: embed 64*32 + lm_head 64*32 + norm 32 + 2 layers of (2*32 norms + q 1024 + k 512 + v 512 + o 1024 + 3*2048)
            long base = 64 * 32 * 2 + 32 + 2 * (64 + 1024 + 512 + 512 + 1024 + 3 * 2048);
            assertThat(model.parameterCount()).isEqualTo(base);
            assertThat(lora.trainableSummary()).isEqualTo(String.format(java.util.Locale.ROOT,
                    "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                    2 * perLayer, base + 2 * perLayer, 100.0 * 2 * perLayer / (base + 2 * perLayer)));
        }
    }

    @Test
    void mergedForwardEqualsUnmergedAndUnmergeRestores() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen3(), DataType.FLOAT32, m)) {
            float[] baseLogits = logits(model, m, 5, 6, 7);
            try (LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.ALL_LINEAR), 2)) {
                randomizeB(lora, 3);
                float[] adapted = logits(model, m, 5, 6, 7);
                assertThat(maxDiff(adapted, baseLogits)).isGreaterThan(1e-3);
                lora.merge();
                assertThat(maxDiff(logits(model, m, 5, 6, 7), adapted)).isLessThan(1e-4);
                lora.unmerge();
                assertThat(maxDiff(logits(model, m, 5, 6, 7), adapted)).isLessThan(1e-4);
            }
            assertThat(maxDiff(logits(model, m, 5, 6, 7), baseLogits)).isLessThan(1e-4);
        }
    }

    @Test
    void onlyLoraParametersReceiveGradients() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(2, 4, TargetModule.V_PROJ, TargetModule.UP_PROJ), 1)) {
            LoraModelTest.backwardOfSquaredLogits(model, m, 1, 2, 3, 4);
            for (LoraAdapter a : lora.adapters()) {
                double gb = 0;
                for (float v : a.b().getGradient().toFloatArray()) {
                    gb += Math.abs(v);
                }
                assertThat(gb).as("grad of %s", a.keyB()).isGreaterThan(0);
            }
            for (Linear l : model.linears()) {
                assertThat(l.weight().hasGradient()).isFalse();
            }
            assertThat(model.embedTokens().hasGradient()).isFalse();
        }
    }

    @Test
    void peftAdapterRoundTripsAndIsVerified() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.qwen2());
        Path out = tmp.resolve("adapter");
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            float[] adapted;
            try (LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 16, TargetModule.Q_PROJ, TargetModule.V_PROJ), 1)) {
                assertThatThrownBy(() -> PeftAdapter.write(out, lora, "tiny-qwen2", false))
                        .hasMessageContaining("every lora_B is zero");
                randomizeB(lora, 8);
                PeftAdapter.write(out, lora, "tiny-qwen2", false);
                adapted = logits(model, m, 3, 1, 4);
            }
            PeftAdapter.Loaded loaded = PeftAdapter.read(out);
            assertThat(loaded.config().path("peft_type").asText()).isEqualTo("LORA");
            assertThat(loaded.rank()).isEqualTo(4);
            assertThat(loaded.alpha()).isEqualTo(16.0);
            assertThat(loaded.targetModules()).containsExactly("q_proj", "v_proj");
            assertThat(loaded.shapes().keySet()).contains(
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                    "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
            assertThat(loaded.shapes().get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")).containsExactly(4, 32);
            assertThat(loaded.shapes().get("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight")).containsExactly(16, 4);
            assertThat(loaded.shapes()).hasSize(8);
            try (LoraModel again = PeftAdapter.attach(model, out)) {
                assertThat(logits(model, m, 3, 1, 4)).containsExactly(adapted);
            }
            // the file is aligned and tagged like the Python writer's
            try (var f = dev.finetune.trainer.safetensors.SafetensorsFile.open(out.resolve(PeftAdapter.WEIGHTS))) {
                assertThat(f.metadata()).containsEntry("format", "pt");
            }
        }
    }

    @Test
    void badSettingsAreRejectedWithTheFieldName() {
        assertThatThrownBy(() -> LoraSettings.of(0, 8, TargetModule.Q_PROJ)).hasMessageContaining("lora.rank");
        assertThatThrownBy(() -> PeftAdapter.targetModule("qproj")).hasMessageContaining("qproj");
        assertThatThrownBy(() -> new LoraSettings(8, 8, 1.5, Set.of(TargetModule.Q_PROJ), LoraBias.NONE, false, false, LoraInit.DEFAULT))
                .hasMessageContaining("lora.dropout");
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
