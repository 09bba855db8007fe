package dev.finetune.trainer.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.gguf.GgufTestWriter.Array;
import dev.finetune.trainer.gguf.GgufTestWriter.Typed;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny llama written as llama.cpp's converter would (q/k rows permuted), imported back to HF layout. */
class GgufImporterTest {

    static final int HIDDEN = 8;
    static final int HEADS = 2;
    static final int KV_HEADS = 1;
    static final int HEAD_DIM = 4;
    static final int FFN = 12;

    @TempDir
    Path dir;

    /** GPT-2's byte-to-character table: printable bytes map to themselves, the rest to U+0100 onwards. */
    static List<String> byteTokens() {
        List<String> tokens = new ArrayList<>();
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            tokens.add(Character.toString(printable ? b : 256 + extra++));
        }
        return tokens;
    }

    /** llama.cpp's LlamaModel.permute: HF rows (head, half, i) stored as (head, i, half). */
    static float[] permute(float[] hf, int rows, int cols, int heads) {
        float[] out = new float[hf.length];
        int headRows = rows / heads;
        int half = headRows / 2;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    System.arraycopy(hf, (h * headRows + j * half + i) * cols, out, (h * headRows + 2 * i + j) * cols, cols);
                }
            }
        }
        return out;
    }

    static float[] ramp(int n, float start) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = start + i * 0.01f;
        }
        return v;
    }

    record Tiny(GgufTestWriter writer, Map<String, float[]> hfWeights, int vocab) {}

    static Tiny tiny(String arch, String pre) {
        List<String> tokens = new ArrayList<>(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
        tokens.addAll(byteTokens());
        tokens.addAll(List.of("hi", "12", "Ġhi"));
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            types.add(i < 3 ? GgufTokenizer.CONTROL : 1);
        }
        int vocab = tokens.size();
        GgufTestWriter w = new GgufTestWriter()
                .put("general.architecture", arch)
                .put(arch + ".block_count", 1)
                .put(arch + ".context_length", 64)
                .put(arch + ".embedding_length", HIDDEN)
                .put(arch + ".feed_forward_length", FFN)
                .put(arch + ".attention.head_count", HEADS)
                .put(arch + ".attention.head_count_kv", KV_HEADS)
                .put(arch + ".attention.layer_norm_rms_epsilon", 1e-5f)
                .put(arch + ".rope.freq_base", 100000f)
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", pre)
                .put("tokenizer.ggml.tokens", new Array(GgufValueType.STRING, tokens))
                .put("tokenizer.ggml.token_type", new Array(GgufValueType.INT32, types))
                .put("tokenizer.ggml.merges", new Array(GgufValueType.STRING, List.of("h i", "1 2", "Ġ hi")))
                .put("tokenizer.ggml.bos_token_id", new Typed(GgufValueType.UINT32, 1))
                .put("tokenizer.ggml.eos_token_id", new Typed(GgufValueType.UINT32, 2))
                .put("tokenizer.ggml.add_bos_token", false)
                .put("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}");
        Map<String, float[]> hf = new LinkedHashMap<>();
        hf.put("model.embed_tokens.weight", ramp(vocab * HIDDEN, -1));
        hf.put("model.norm.weight", ramp(HIDDEN, 1));
        hf.put("model.layers.0.input_layernorm.weight", ramp(HIDDEN, 0.9f));
        hf.put("model.layers.0.post_attention_layernorm.weight", ramp(HIDDEN, 0.8f));
        hf.put("model.layers.0.self_attn.q_proj.weight", ramp(HEADS * HEAD_DIM * HIDDEN, 0.1f));
        hf.put("model.layers.0.self_attn.k_proj.weight", ramp(KV_HEADS * HEAD_DIM * HIDDEN, 0.2f));
        hf.put("model.layers.0.self_attn.v_proj.weight", ramp(KV_HEADS * HEAD_DIM * HIDDEN, 0.3f));
        hf.put("model.layers.0.self_attn.o_proj.weight", ramp(HIDDEN * HEADS * HEAD_DIM, 0.4f));
        hf.put("model.layers.0.mlp.gate_proj.weight", ramp(FFN * HIDDEN, 0.5f));
        hf.put("model.layers.0.mlp.up_proj.weight", ramp(FFN * HIDDEN, 0.6f));
        hf.put("model.layers.0.mlp.down_proj.weight", ramp(HIDDEN * FFN, 0.7f));
        boolean llama = arch.equals("llama");
        w.f32("token_embd.weight", new long[] {vocab, HIDDEN}, hf.get("model.embed_tokens.weight"));
        w.f32("output_norm.weight", new long[] {HIDDEN}, hf.get("model.norm.weight"));
        w.f32("blk.0.attn_norm.weight", new long[] {HIDDEN}, hf.get("model.layers.0.input_layernorm.weight"));
        w.f32("blk.0.ffn_norm.weight", new long[] {HIDDEN}, hf.get("model.layers.0.post_attention_layernorm.weight"));
        float[] q = hf.get("model.layers.0.self_attn.q_proj.weight");
        float[] k = hf.get("model.layers.0.self_attn.k_proj.weight");
        w.f32("blk.0.attn_q.weight", new long[] {HEADS * HEAD_DIM, HIDDEN}, llama ? permute(q, HEADS * HEAD_DIM, HIDDEN, HEADS) : q);
        w.f32("blk.0.attn_k.weight", new long[] {KV_HEADS * HEAD_DIM, HIDDEN},
                llama ? permute(k, KV_HEADS * HEAD_DIM, HIDDEN, KV_HEADS) : k);
        w.f32("blk.0.attn_v.weight", new long[] {KV_HEADS * HEAD_DIM, HIDDEN}, hf.get("model.layers.0.self_attn.v_proj.weight"));
        w.f32("blk.0.attn_output.weight", new long[] {HIDDEN, HEADS * HEAD_DIM}, hf.get("model.layers.0.self_attn.o_proj.weight"));
        w.f32("blk.0.ffn_gate.weight", new long[] {FFN, HIDDEN}, hf.get("model.layers.0.mlp.gate_proj.weight"));
        w.f32("blk.0.ffn_up.weight", new long[] {FFN, HIDDEN}, hf.get("model.layers.0.mlp.up_proj.weight"));
        w.f32("blk.0.ffn_down.weight", new long[] {HIDDEN, FFN}, hf.get("model.layers.0.mlp.down_proj.weight"));
        return new Tiny(w, hf, vocab);
    }

    /** Writes {@code tiny} as {@code NAME.gguf} and imports it into the model directory {@code NAME}. */
    private Path imported(Tiny tiny, String name, GgufImporter.Precision precision) throws IOException {
        Path model = dir.resolve(name);
        GgufImporter.importModel(tiny.writer().write(dir.resolve(name + ".gguf")), model, precision);
        return model;
    }

    @Test
    void llamaImportRestoresHuggingFaceRowOrderAndWritesConfig() throws IOException {
        Tiny tiny = tiny("llama", "smollm");
        Path model = dir.resolve("model");
        GgufImporter.Summary s = GgufImporter.importModel(tiny.writer().write(dir.resolve("tiny.gguf")), model,
                GgufImporter.Precision.FP32);
        assertThat(s.architecture()).isEqualTo("llama");
        assertThat(s.tensors()).isEqualTo(11);
        assertThat(s.sourceTypes()).containsExactly(Map.entry("F32", 11));
        try (SafetensorsFile st = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertThat(st.entries().keySet()).containsExactlyInAnyOrderElementsOf(tiny.hfWeights().keySet());
            for (Map.Entry<String, float[]> e : tiny.hfWeights().entrySet()) {
                assertThat(st.readFloats(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
            }
            assertThat(st.entry("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(KV_HEADS * HEAD_DIM, HIDDEN);
        }
        ModelConfig c = ModelConfig.read(model);
        assertThat(c.modelType()).isEqualTo("llama");
        assertThat(c.vocabSize()).isEqualTo(tiny.vocab());
        assertThat(c.numHeads()).isEqualTo(HEADS);
        assertThat(c.numKvHeads()).isEqualTo(KV_HEADS);
        assertThat(c.headDim()).isEqualTo(HEAD_DIM);
        assertThat(c.intermediateSize()).isEqualTo(FFN);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5);
        assertThat(c.ropeTheta()).isEqualTo(100000.0);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.torchDtype()).isEqualTo("float32");
        assertThat(c.eosTokenIds()).containsExactly(2);
    }

    @Test
    void bf16ImportRoundsToNearestEven() throws IOException {
        Tiny tiny = tiny("llama", "smollm");
        Path model = imported(tiny, "bf16", GgufImporter.Precision.BF16);
        try (SafetensorsFile st = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertThat(st.entry("model.norm.weight").dtype()).isEqualTo("BF16");
            float[] norm = st.readFloats("model.norm.weight");
            float[] expected = tiny.hfWeights().get("model.norm.weight");
            for (int i = 0; i < norm.length; i++) {
                assertThat(norm[i]).isEqualTo(Float.intBitsToFloat(dev.finetune.trainer.safetensors.DType.toBf16(expected[i]) << 16));
            }
        }
        assertThat(ModelConfig.read(model).torchDtype()).isEqualTo("bfloat16");
    }

    @Test
    void qwen2TensorsAreNotPermuted() throws IOException {
        Tiny tiny = tiny("qwen2", "qwen2");
        Path model = imported(tiny, "qwen", GgufImporter.Precision.FP32);
        try (SafetensorsFile st = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertThat(st.readFloats("model.layers.0.self_attn.q_proj.weight"))
                    .containsExactly(tiny.hfWeights().get("model.layers.0.self_attn.q_proj.weight"));
        }
        JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
        assertThat(config.path("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
        assertThat(ModelConfig.read(model).attentionBias()).isTrue();
    }

    @Test
    void smollmPreTokenizerSplitsEveryDigitAndGpt2DoesNot() throws IOException {
        Path smollm = imported(tiny("llama", "smollm"), "smollm", GgufImporter.Precision.BF16);
        Path gpt2 = imported(tiny("llama", "gpt2"), "gpt2", GgufImporter.Precision.BF16);
        int hi = 3 + 256;
        int twelve = hi + 1;
        int spaceHi = hi + 2;
        int one = 3 + '1';
        int two = 3 + '2';
        try (ModelTokenizer s = ModelTokenizer.load(smollm); ModelTokenizer g = ModelTokenizer.load(gpt2)) {
            assertThat(s.encode("hi hi12<|im_end|>").ids()).containsExactly(hi, spaceHi, one, two, 2);
            assertThat(g.encode("hi hi12<|im_end|>").ids()).containsExactly(hi, spaceHi, twelve, 2);
            assertThat(s.decode(new int[] {hi, spaceHi, one, two})).isEqualTo("hi hi12");
            assertThat(s.specialTokens().eosId()).isEqualTo(2);
            assertThat(s.specialTokens().bosId()).isEqualTo(1);
            assertThat(s.specialTokens().addBosToken()).isFalse();
            assertThat(s.chatTemplate()).isPresent();
        }
    }

    @Test
    void unsupportedArchitectureAndTokenizerAreNamed() throws IOException {
        Tiny phi = tiny("llama", "smollm");
        phi.writer().put("general.architecture", "phi3");
        assertThatThrownBy(() -> GgufImporter.importModel(phi.writer().write(dir.resolve("phi.gguf")), dir.resolve("p"),
                GgufImporter.Precision.FP32)).isInstanceOf(GgufFormatException.class)
                .hasMessageMatching(".*phi\\.gguf: metadata key general\\.architecture \\(value at offset \\d+\\) is \"phi3\".*")
                .hasMessageContaining("supported: llama, qwen2, qwen3");
        Tiny odd = tiny("llama", "falcon");
        assertThatThrownBy(() -> GgufImporter.importModel(odd.writer().write(dir.resolve("f.gguf")), dir.resolve("f"),
                GgufImporter.Precision.FP32)).hasMessageContaining("tokenizer.ggml.pre").hasMessageContaining("\"falcon\"");
    }

    @Test
    void aTensorOfAnotherModelIsNamed() throws IOException {
        Tiny tiny = tiny("llama", "smollm");
        tiny.writer().f32("blk.0.ffn_gate_exps.weight", new long[] {2, HIDDEN}, new float[2 * HIDDEN]);
        assertThatThrownBy(() -> GgufImporter.importModel(tiny.writer().write(dir.resolve("moe.gguf")), dir.resolve("m"),
                GgufImporter.Precision.FP32)).isInstanceOf(GgufFormatException.class)
                .hasMessageMatching(".*moe\\.gguf: tensor blk\\.0\\.ffn_gate_exps\\.weight \\(data at offset \\d+\\): it is not a tensor "
                        + "of a llama model with 1 layers");
    }

    @Test
    void unpermuteInvertsLlamaCppsPermuteForBiasesToo() {
        float[] bias = ramp(16, 0);
        assertThat(GgufImporter.unpermute(permute(bias, 16, 1, 2), new long[] {16}, 2)).containsExactly(bias);
        float[] w = ramp(24 * 3, 0);
        assertThat(GgufImporter.unpermute(permute(w, 24, 3, 3), new long[] {24, 3}, 3)).containsExactly(w);
    }
}
