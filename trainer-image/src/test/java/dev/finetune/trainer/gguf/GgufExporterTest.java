package dev.finetune.trainer.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export is the inverse of import: a tiny llama (llama.cpp's layout) imported, exported, imported again. */
class GgufExporterTest {

    @TempDir
    Path dir;

    Path importedTiny() throws IOException {
        Path model = dir.resolve("model");
        GgufImporter.importModel(GgufImporterTest.tiny("llama", "smollm").writer().write(dir.resolve("tiny.gguf")), model,
                GgufImporter.Precision.FP32);
        return model;
    }

    @Test
    void f32ExportReimportsToTheSameModelAndTokenizer() throws IOException {
        Path model = importedTiny();
        GgufExporter.Summary s = GgufExporter.exportModel(model, dir.resolve("out.gguf"), GgmlType.F32);
        assertThat(s.types()).containsExactly(Map.entry("F32", 11));
        try (GgufFile original = GgufFile.open(dir.resolve("tiny.gguf")); GgufFile exported = GgufFile.open(dir.resolve("out.gguf"))) {
            assertThat(exported.tensors().keySet()).containsExactlyInAnyOrderElementsOf(original.tensors().keySet());
            for (GgufTensor t : original.tensors().values()) {
                // q/k rows are permuted back into llama.cpp's order, so the GGUF bytes are the original's
                assertThat(Dequantizer.toFloats(exported, exported.tensors().get(t.name()))).as(t.name())
                        .containsExactly(Dequantizer.toFloats(original, t));
            }
            for (String key : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                    "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                    "tokenizer.ggml.add_bos_token", "tokenizer.chat_template", "llama.block_count", "llama.embedding_length",
                    "llama.attention.head_count", "llama.attention.head_count_kv", "llama.context_length")) {
                assertThat(exported.metadata().get(key)).as(key).isEqualTo(original.metadata().get(key));
            }
            assertThat(exported.optionalNumber("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5);
            assertThat(exported.metadata()).containsEntry("general.file_type", 0L).containsEntry("llama.attention.key_length", 4L);
        }
        Path again = dir.resolve("again");
        GgufImporter.importModel(dir.resolve("out.gguf"), again, GgufImporter.Precision.FP32);
        assertThat(Files.readString(again.resolve("tokenizer.json"))).isEqualTo(Files.readString(model.resolve("tokenizer.json")));
    }

    @Test
    void q8_0ExportFallsBackToF16WhereRowsAreNotWholeBlocks() throws IOException {
        Path model = importedTiny();
        GgufExporter.Summary s = GgufExporter.exportModel(model, dir.resolve("q8.gguf"), GgmlType.Q8_0);
        GgufExporter.exportModel(model, dir.resolve("f16.gguf"), GgmlType.F16);
        // hidden 8 and ffn 12: no row is a whole 32-element block, so every matrix falls back to F16, norms stay F32
        assertThat(s.types()).containsExactly(Map.entry("F16", 8), Map.entry("F32", 3));
        try (GgufFile q8 = GgufFile.open(dir.resolve("q8.gguf")); GgufFile f16 = GgufFile.open(dir.resolve("f16.gguf"));
                SafetensorsFile st = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertThat(q8.metadata()).containsEntry("general.file_type", 7L);
            assertThat(f16.metadata()).containsEntry("general.file_type", 1L);
            float[] original = st.readFloats("model.layers.0.mlp.gate_proj.weight");
            float[] h = Dequantizer.toFloats(f16, f16.tensors().get("blk.0.ffn_gate.weight"));
            for (int i = 0; i < original.length; i++) {
                assertThat(h[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(original[i])));
            }
        }
    }

    @Test
    void q8_0StaysWithinHalfAStepOfEachBlock() {
        java.util.Random random = new java.util.Random(8);
        float[] x = new float[32 * 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * (1 + i / 32));
        }
        float[] back = Dequantizer.toFloats(GgmlType.Q8_0, java.lang.foreign.MemorySegment.ofArray(Quantizer.q8_0(x)), x.length);
        for (int i = 0; i < x.length; i++) {
            float blockMax = 0;
            for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) {
                blockMax = Math.max(blockMax, Math.abs(x[j]));
            }
            // half a quantisation step, plus the fp16 rounding of the scale (relative 2^-11, times up to 127 steps)
            assertThat((double) Math.abs(back[i] - x[i])).as("element %d", i)
                    .isLessThanOrEqualTo(blockMax / 127 * (0.5 + 127 * 0x1p-11) + 1e-7);
        }
    }

    @Test
    void q8_0RoundsHalvesAwayFromZeroLikeC() {
        float[] x = new float[32];
        x[0] = 127;
        x[1] = 0.5f;
        x[2] = -0.5f;
        x[3] = -127;
        byte[] b = Quantizer.q8_0(x);
        assertThat(Float.float16ToFloat((short) ((b[0] & 0xFF) | b[1] << 8))).isEqualTo(1f);
        assertThat(new byte[] {b[2], b[3], b[4], b[5]}).containsExactly(127, 1, -1, -127);
    }

    @Test
    void loraAdapterBecomesLlamaCppsAdapterWithQRowsPermuted() throws IOException {
        Path model = importedTiny();
        Path adapter = Files.createDirectories(dir.resolve("adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"),
                "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4, \"target_modules\": [\"q_proj\", \"v_proj\"]}");
        int qRows = GgufImporterTest.HEADS * GgufImporterTest.HEAD_DIM;
        float[] qB = GgufImporterTest.ramp(qRows * 2, 0);
        new SafetensorsWriter()
                .addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "F32", new long[] {2, 8},
                        GgufImporterTest.ramp(16, 1))
                .addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "F32", new long[] {qRows, 2}, qB)
                .addFloats("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", "F32", new long[] {2, 8},
                        GgufImporterTest.ramp(16, 2))
                .addFloats("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", "F32", new long[] {4, 2},
                        GgufImporterTest.ramp(8, 3))
                .write(adapter.resolve("adapter_model.safetensors"));
        GgufExporter.exportAdapter(adapter, model, dir.resolve("lora.gguf"));
        try (GgufFile g = GgufFile.open(dir.resolve("lora.gguf"))) {
            assertThat(g.metadata()).containsEntry("general.type", "adapter").containsEntry("adapter.type", "lora")
                    .containsEntry("adapter.lora.alpha", 4f).containsEntry("general.architecture", "llama");
            assertThat(g.tensors().keySet()).containsExactlyInAnyOrder("blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b",
                    "blk.0.attn_v.weight.lora_a", "blk.0.attn_v.weight.lora_b");
            assertThat(g.tensors().get("blk.0.attn_q.weight.lora_b").shape()).containsExactly(qRows, 2);
            assertThat(Dequantizer.toFloats(g, g.tensors().get("blk.0.attn_q.weight.lora_b")))
                    .containsExactly(GgufImporterTest.permute(qB, qRows, 2, GgufImporterTest.HEADS));
            assertThat(Dequantizer.toFloats(g, g.tensors().get("blk.0.attn_q.weight.lora_a")))
                    .containsExactly(GgufImporterTest.ramp(16, 1));
        }
        Files.writeString(adapter.resolve("adapter_config.json"),
                "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4, \"use_rslora\": true}");
        assertThatThrownBy(() -> GgufExporter.exportAdapter(adapter, model, dir.resolve("rs.gguf")))
                .isInstanceOf(GgufFormatException.class).hasMessageContaining("rsLoRA and DoRA adapters have no llama.cpp LoRA form");
    }
}
