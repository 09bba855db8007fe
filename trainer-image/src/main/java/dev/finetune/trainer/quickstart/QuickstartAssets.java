package dev.finetune.trainer.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The quickstart's inputs, made locally with no download: a small <em>synthetic</em> Llama-style model
 * (random weights, a word-level tokenizer and a chat template: a real Hugging Face directory, but it
 * knows nothing) and an alpaca dataset of a task whose learning is visible within minutes on a CPU:
 * continue a run of consecutive numbers ("17 18 19" -> "20 21 22"). Real use mounts a real model.
 */
public final class QuickstartAssets {

    public static final List<String> SPECIALS = List.of("<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>");
    public static final int NUMBERS = 40;
    private static final List<String> WORDS = List.of("Continue", "the", "sequence", "Count", "on", "from", ".", ":",
            "Below", "is", "an", "instruction", "that", "describes", "a", "task", "Input", "Response", "Write",
            "response", "appropriately", "completes", "request", "paired", "with", "input", "provides", "further",
            "context", "###", "Instruction", "#", ",");

    /** Model shape. */
    public record Shape(int hidden, int intermediate, int layers, int heads, int kvHeads) {
        public static Shape quickstart() {
            return new Shape(64, 128, 2, 4, 2);
        }
    }

    private QuickstartAssets() {}

    public static List<String> vocabulary() {
        List<String> vocab = new ArrayList<>(SPECIALS);
        for (int i = 0; i < NUMBERS; i++) {
            vocab.add(Integer.toString(i));
        }
        vocab.addAll(WORDS);
        return vocab;
    }

    /** Writes config.json, model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json. */
    public static Path writeModel(Path dir, Shape shape, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        List<String> vocab = vocabulary();
        int v = vocab.size();
        ObjectNode c = mapper.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", v);
        c.put("hidden_size", shape.hidden());
        c.put("intermediate_size", shape.intermediate());
        c.put("num_hidden_layers", shape.layers());
        c.put("num_attention_heads", shape.heads());
        c.put("num_key_value_heads", shape.kvHeads());
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", 512);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("initializer_range", 0.02);
        c.put("bos_token_id", vocab.indexOf("<s>"));
        c.put("eos_token_id", vocab.indexOf("</s>"));
        c.put("pad_token_id", vocab.indexOf("<pad>"));
        c.put("torch_dtype", "float32");
        c.put("_comment", "synthetic random-initialised model made by finetune quickstart-assets; it knows nothing");
        mapper.writeValue(dir.resolve("config.json").toFile(), c);

        ObjectNode g = mapper.createObjectNode();
        g.put("bos_token_id", vocab.indexOf("<s>"));
        g.put("eos_token_id", vocab.indexOf("</s>"));
        g.put("pad_token_id", vocab.indexOf("<pad>"));
        mapper.writeValue(dir.resolve("generation_config.json").toFile(), g);

        writeTokenizer(dir, vocab, mapper);

        // a wider lm head than HF's 0.02 init: random logits stay small (std ~1.6), but a LoRA-adapted hidden
        // state can reach confident predictions; with 0.02 the head caps every logit near 1.3 and the
        // loss cannot fall below ~3.3 even when the answers are right
        writeWeights(dir.resolve("model.safetensors"), shape, v, seed, 0.2);
        return dir;
    }

    /**
     * Random Llama weights in HF's layout: N(0, 0.02) for embeddings and every linear layer, N(0, lmHeadStd) for
     * the lm head, RMSNorm weights 1; drawn from {@code Random(seed)} in a fixed order.
     */
    public static void writeWeights(Path file, Shape shape, int v, long seed, double lmHeadStd) throws IOException {
        Random r = new Random(seed);
        SafetensorsWriter w = new SafetensorsWriter();
        int d = shape.hidden();
        int hd = d / shape.heads();
        normal(w, r, "model.embed_tokens.weight", 0.02, v, d);
        for (int i = 0; i < shape.layers(); i++) {
            String p = "model.layers." + i + ".";
            ones(w, p + "input_layernorm.weight", d);
            ones(w, p + "post_attention_layernorm.weight", d);
            normal(w, r, p + "self_attn.q_proj.weight", 0.02, shape.heads() * hd, d);
            normal(w, r, p + "self_attn.k_proj.weight", 0.02, shape.kvHeads() * hd, d);
            normal(w, r, p + "self_attn.v_proj.weight", 0.02, shape.kvHeads() * hd, d);
            normal(w, r, p + "self_attn.o_proj.weight", 0.02, d, shape.heads() * hd);
            normal(w, r, p + "mlp.gate_proj.weight", 0.02, shape.intermediate(), d);
            normal(w, r, p + "mlp.up_proj.weight", 0.02, shape.intermediate(), d);
            normal(w, r, p + "mlp.down_proj.weight", 0.02, d, shape.intermediate());
        }
        ones(w, "model.norm.weight", d);
        normal(w, r, "lm_head.weight", lmHeadStd, v, d);
        w.write(file);
    }

    private static void writeTokenizer(Path dir, List<String> vocab, ObjectMapper mapper) throws IOException {
        ObjectNode t = mapper.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        for (String s : SPECIALS) {
            ObjectNode a = added.addObject();
            a.put("id", vocab.indexOf(s));
            a.put("content", s);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        t.putNull("normalizer");
        t.putObject("pre_tokenizer").put("type", "Whitespace");
        t.putNull("post_processor");
        ObjectNode decoder = t.putObject("decoder");
        decoder.put("type", "WordPiece");
        decoder.put("prefix", "##");
        decoder.put("cleanup", false);
        ObjectNode model = t.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode ids = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
        }
        model.put("unk_token", "<unk>");
        mapper.writeValue(dir.resolve("tokenizer.json").toFile(), t);

        ObjectNode tc = mapper.createObjectNode();
        tc.put("tokenizer_class", "PreTrainedTokenizerFast");
        tc.putNull("bos_token");
        tc.put("eos_token", "</s>");
        tc.put("pad_token", "<pad>");
        tc.put("unk_token", "<unk>");
        tc.put("add_bos_token", false);
        tc.put("model_max_length", 512);
        tc.put("chat_template", "{% for message in messages %}{{ '<|' + message['role'] + '|> ' + message['content'] + ' </s> ' }}"
                + "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|> ' }}{% endif %}");
        mapper.writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
    }

    /** Alpaca records: "Continue the sequence ." with three consecutive numbers in, the next three out. */
    public static Path writeDataset(Path file, int records, long seed) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        ObjectMapper mapper = new ObjectMapper();
        Random r = new Random(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            int start = r.nextInt(NUMBERS - 6);
            Map<String, String> rec = new LinkedHashMap<>();
            rec.put("instruction", "Continue the sequence .");
            rec.put("input", start + " " + (start + 1) + " " + (start + 2));
            rec.put("output", (start + 3) + " " + (start + 4) + " " + (start + 5));
            lines.add(mapper.writeValueAsString(rec));
        }
        Files.write(file, lines);
        return file;
    }

    private static void normal(SafetensorsWriter w, Random r, String name, double std, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        w.addFloats(name, DType.F32, new long[] {rows, cols}, v);
    }

    private static void ones(SafetensorsWriter w, String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        w.addFloats(name, DType.F32, new long[] {n}, v);
    }
}
