package dev.finetune.trainer.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEFT's {@code bias="all" | "lora_only"}: which biases train, their adapter keys, and that they round-trip. */
class LoraBiasTest {

    @TempDir
    Path tmp;

    static LoraSettings withBias(LoraBias bias) {
        return new LoraSettings(4, 8, 0, Set.of(TargetModule.Q_PROJ), bias, false, false, LoraInit.DEFAULT);
    }

    @Test
    void biasAllTrainsEveryBiasUnderPeftKeys() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m)) {
            float[] baseLogits = LoraModelTest.logits(model, m, 1, 2, 3);
            float[] trained;
            try (LoraModel lora = LoraModel.attach(model, withBias(LoraBias.ALL), 1)) {
                // q_proj is adapted: its bias is base_layer.bias; k/v are not: plain .bias (PEFT 0.17 naming)
                assertThat(lora.trainable().keySet()).contains(
                        "base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias",
                        "base_model.model.model.layers.0.self_attn.k_proj.bias",
                        "base_model.model.model.layers.1.self_attn.v_proj.bias");
                assertThat(lora.trainable()).hasSize(2 * 2 + 2 * 3);
                // biases are base parameters: counted once in "all params"
                long loraOnly = 2 * (4 * 32 + 32 * 4);
                long biases = 2 * (32 + 16 + 16);
                assertThat(lora.trainableParameterCount()).isEqualTo(loraOnly + biases);
                assertThat(lora.trainableSummary()).contains(String.format("all params: %,d", model.parameterCount() + loraOnly));
                assertThat(LoraModelTest.logits(model, m, 1, 2, 3)).containsExactly(baseLogits);
                float[] kBiasBefore = lora.trainable().get("base_model.model.model.layers.0.self_attn.k_proj.bias").toFloatArray();
                TrainingSettings s = new TrainingSettings(1, 1e-2, Scheduler.CONSTANT, 0, null, 1, 1.0, 0.1, false,
                        1, 0, 0, 0, 0, 0);
                new Trainer(lora, s, new SyntheticBatches(8, 4, 64, 3), List.of(), List.of()).run();
                float[] kBiasAfter = lora.trainable().get("base_model.model.model.layers.0.self_attn.k_proj.bias").toFloatArray();
                assertThat(LoraModelTest.maxDiff(kBiasAfter, kBiasBefore)).isGreaterThan(1e-4);
                PeftAdapter.write(tmp.resolve("adapter"), lora, "tiny", false);
                trained = LoraModelTest.logits(model, m, 1, 2, 3);
            }
            // closing restores the frozen biases
            assertThat(LoraModelTest.logits(model, m, 1, 2, 3)).containsExactly(baseLogits);
            PeftAdapter.Loaded loaded = PeftAdapter.read(tmp.resolve("adapter"));
            assertThat(loaded.config().path("bias").asText()).isEqualTo("all");
            assertThat(loaded.shapes().get("base_model.model.model.layers.0.self_attn.k_proj.bias")).containsExactly(16);
            try (LoraModel again = PeftAdapter.attach(model, tmp.resolve("adapter"))) {
                assertThat(LoraModelTest.logits(model, m, 1, 2, 3)).containsExactly(trained);
            }
        }
    }

    @Test
    void loraOnlyTrainsTheBiasesOfAdaptedLayersOnly() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, withBias(LoraBias.LORA_ONLY), 1)) {
            assertThat(lora.trainable().keySet()).filteredOn(k -> k.endsWith("bias")).containsExactly(
                    "base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias",
                    "base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias");
        }
    }
}
