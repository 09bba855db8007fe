package dev.finetune.trainer.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.model.WeightStore;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hugging Face model directories and PEFT LoRA adapters into llama.cpp's GGUF files: the inverse of
 * {@link GgufImporter} (names, the llama q/k row permutation, the {@code <arch>.*} and {@code tokenizer.ggml.*}
 * keys). A model is written as F32, F16 or Q8_0 (1-D tensors, norms and biases, stay F32 as llama.cpp keeps
 * them); an adapter as llama.cpp's LoRA adapter ({@code general.type = adapter}, {@code adapter.lora.alpha},
 * tensors {@code <name>.lora_a} / {@code .lora_b}, F32).
 */
public final class GgufExporter {

    /** What an export wrote: tensors by stored type. */
    public record Summary(String architecture, int tensors, Map<String, Integer> types) {}

    private GgufExporter() {}

    /** Writes {@code modelDir} as a GGUF model of tensor type {@code type} ("f32", "f16" or "q8_0"). */
    public static Summary exportModel(Path modelDir, Path out, String type) throws IOException {
        return exportModel(modelDir, out, type(type));
    }

    /** f32, f16 or q8_0 by name. */
    static GgmlType type(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("type " + name + ": use f16, q8_0 or f32");
        };
    }

    /** The llama.cpp name of a Hugging Face tensor name. */
    static String ggufName(String hf) {
        String gguf = GgufTensorNames.toGguf(hf);
        if (gguf != null) {
            return gguf;
        }
        throw new GgufFormatException("tensor " + hf + " has no llama.cpp name; only llama/qwen2/qwen3/mistral decoder "
                + "tensors are exported");
    }

    static String architecture(ModelConfig c) {
        return c.modelType().equals("mistral") ? "llama" : c.modelType();
    }

    /** llama.cpp's {@code LlamaModel.permute}: Hugging Face rows (head, half, i) stored as (head, i, half). */
    static float[] permute(float[] hf, long rows, int heads) {
        int cols = (int) (hf.length / rows);
        int headRows = (int) rows / heads;
        int half = headRows / 2;
        float[] out = new float[hf.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    System.arraycopy(hf, (h * headRows + j * half + i) * cols, out, (h * headRows + 2 * i + j) * cols, cols);
                }
            }
        }
        return out;
    }

    /** How many heads to permute for this Hugging Face tensor (0: none), as {@link GgufArchitecture#unpermutes}. */
    static int permuteHeads(ModelConfig c, String hf) {
        if (!architecture(c).equals("llama")) {
            return 0;
        }
        if (hf.contains(".self_attn.q_proj.")) {
            return c.numHeads();
        }
        if (hf.contains(".self_attn.k_proj.")) {
            return c.numKvHeads();
        }
        return 0;
    }

    static Summary exportModel(Path modelDir, Path out, GgmlType type) throws IOException {
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.Q8_0) {
            throw new IllegalArgumentException("export writes f32, f16 or q8_0, not " + type);
        }
        ModelConfig c = ModelConfig.read(modelDir);
        String arch = architecture(c);
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", arch);
        w.string("general.name", modelDir.toAbsolutePath().getFileName().toString());
        w.uint32("general.file_type", switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            default -> 7;
        });
        w.uint32(arch + ".context_length", c.maxPositionEmbeddings());
        w.uint32(arch + ".embedding_length", c.hiddenSize());
        w.uint32(arch + ".feed_forward_length", c.intermediateSize());
        w.uint32(arch + ".block_count", c.numLayers());
        w.uint32(arch + ".attention.head_count", c.numHeads());
        w.uint32(arch + ".attention.head_count_kv", c.numKvHeads());
        w.uint32(arch + ".attention.key_length", c.headDim());
        w.uint32(arch + ".attention.value_length", c.headDim());
        w.uint32(arch + ".rope.dimension_count", c.headDim());
        w.float32(arch + ".attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.float32(arch + ".rope.freq_base", c.ropeTheta());
        w.uint32(arch + ".vocab_size", c.vocabSize());
        if (c.ropeScaling() != null) {
            if (!c.ropeScaling().type().equals("linear")) {
                throw new GgufFormatException(modelDir.resolve("config.json") + ": rope_scaling " + c.ropeScaling().type()
                        + " is not exported (linear is)");
            }
            w.string(arch + ".rope.scaling.type", "linear");
            w.float32(arch + ".rope.scaling.factor", c.ropeScaling().factor());
        }
        tokenizer(modelDir, w);

        Map<String, Integer> types = new TreeMap<>();
        try (WeightStore store = WeightStore.open(modelDir)) {
            List<String> names = new ArrayList<>(store.names());
            names.sort(null);
            if (c.tieWordEmbeddings()) {
                names.remove("lm_head.weight");
            }
            for (String name : names) {
                SafetensorsFile.Entry e = store.entry(name);
                long[] shape = e.shape();
                GgmlType stored = shape.length == 1 ? GgmlType.F32
                        : type == GgmlType.Q8_0 && shape[shape.length - 1] % 32 != 0 ? GgmlType.F16 : type;
                int heads = permuteHeads(c, name);
                Path file = store.fileOf(name);
                w.tensor(ggufName(name), shape, stored, () -> {
                    float[] values;
                    try (SafetensorsFile st = SafetensorsFile.open(file)) {
                        values = st.readFloats(name);
                    }
                    return Quantizer.encode(stored, heads > 0 ? permute(values, shape[0], heads) : values);
                });
                types.merge(stored.name(), 1, Integer::sum);
            }
        }
        w.write(out);
        return new Summary(arch, types.values().stream().mapToInt(Integer::intValue).sum(), types);
    }

    /** The {@code tokenizer.ggml.*} keys from tokenizer.json (byte-level BPE only) and tokenizer_config.json. */
    static void tokenizer(Path modelDir, GgufWriter w) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path file = modelDir.resolve("tokenizer.json");
        JsonNode t = json.readTree(file.toFile());
        JsonNode model = t.path("model");
        if (!model.path("type").asText().equals("BPE") || !t.toString().contains("\"ByteLevel\"")) {
            throw new GgufFormatException(file + ": model.type " + model.path("type").asText() + " is not a byte-level BPE; "
                    + "export writes GPT-2-style (tokenizer.ggml.model = gpt2) tokenizers only");
        }
        Map<Integer, String> byId = new TreeMap<>();
        model.path("vocab").fields().forEachRemaining(e -> byId.put(e.getValue().asInt(), e.getKey()));
        Map<Integer, Integer> types = new HashMap<>();
        for (JsonNode a : t.path("added_tokens")) {
            byId.put(a.path("id").asInt(), a.path("content").asText());
            types.put(a.path("id").asInt(), a.path("special").asBoolean() ? GgufTokenizer.CONTROL : GgufTokenizer.USER_DEFINED);
        }
        List<String> tokens = new ArrayList<>();
        List<Integer> tokenTypes = new ArrayList<>();
        for (Map.Entry<Integer, String> e : byId.entrySet()) {
            if (e.getKey() != tokens.size()) {
                throw new GgufFormatException(file + ": token id " + tokens.size() + " is missing; GGUF needs ids 0..n-1");
            }
            tokens.add(e.getValue());
            tokenTypes.add(types.getOrDefault(e.getKey(), 1));
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        w.string("tokenizer.ggml.model", "gpt2");
        w.string("tokenizer.ggml.pre", preName(t.path("pre_tokenizer"), file));
        w.strings("tokenizer.ggml.tokens", tokens);
        w.int32s("tokenizer.ggml.token_type", tokenTypes);
        w.strings("tokenizer.ggml.merges", merges);
        JsonNode config = Files.isRegularFile(modelDir.resolve("tokenizer_config.json"))
                ? json.readTree(modelDir.resolve("tokenizer_config.json").toFile()) : json.createObjectNode();
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.putIfAbsent(tokens.get(i), i);
        }
        for (String[] special : new String[][] {{"bos_token", "bos_token_id"}, {"eos_token", "eos_token_id"},
                {"unk_token", "unknown_token_id"}, {"pad_token", "padding_token_id"}}) {
            JsonNode v = config.get(special[0]);
            String text = v == null || v.isNull() ? null : v.isObject() ? v.path("content").asText() : v.asText();
            if (text != null && ids.containsKey(text)) {
                w.uint32("tokenizer.ggml." + special[1], ids.get(text));
            }
        }
        w.bool("tokenizer.ggml.add_bos_token", config.path("add_bos_token").asBoolean(false));
        w.bool("tokenizer.ggml.add_eos_token", config.path("add_eos_token").asBoolean(false));
        if (config.hasNonNull("chat_template") && config.get("chat_template").isTextual()) {
            w.string("tokenizer.chat_template", config.get("chat_template").asText());
        }
    }

    /** The llama.cpp pre-tokenizer name of a tokenizer.json pre_tokenizer (the ones {@link GgufTokenizer} writes). */
    static String preName(JsonNode pre, Path file) {
        String s = pre.toString();
        if (pre.path("type").asText().equals("ByteLevel")) {
            return "gpt2";
        }
        if (s.contains("\"Digits\"") && s.contains("\"individual_digits\":true") && s.contains("\"ByteLevel\"")) {
            return "smollm";
        }
        if (s.contains("\\\\p{N}{1,3}")) {
            return "llama-bpe";
        }
        if (s.contains("\"Split\"") && s.contains("\\\\p{N}|")) {
            return "qwen2";
        }
        throw new GgufFormatException(file + ": pre_tokenizer " + (s.length() > 200 ? s.substring(0, 200) + "..." : s)
                + " is none of the pre-tokenizers export knows (" + String.join(", ", GgufTokenizer.PRE_TOKENIZERS) + ")");
    }

    /** A PEFT LoRA adapter as llama.cpp's GGUF LoRA adapter for {@code baseModelDir}'s architecture. */
    public static Summary exportAdapter(Path adapterDir, Path baseModelDir, Path out) throws IOException {
        PeftAdapter.Loaded a = PeftAdapter.read(adapterDir);
        if (a.rslora() || a.config().path("use_dora").asBoolean(false)) {
            throw new GgufFormatException(adapterDir.resolve(PeftAdapter.CONFIG) + ": rsLoRA and DoRA adapters have no "
                    + "llama.cpp LoRA form (it scales by alpha / r and has no magnitude vector); merge instead (finetune merge) "
                    + "and export the merged model");
        }
        ModelConfig c = ModelConfig.read(baseModelDir);
        String arch = architecture(c);
        GgufWriter w = new GgufWriter();
        w.string("general.architecture", arch);
        w.string("general.type", "adapter");
        w.string("general.name", adapterDir.toAbsolutePath().getFileName().toString());
        w.string("adapter.type", "lora");
        w.float32("adapter.lora.alpha", a.alpha());
        Map<String, Integer> types = new TreeMap<>();
        List<String> names = new ArrayList<>(a.tensors().keySet());
        names.sort(null);
        for (String peft : names) {
            // base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight -> model.layers.0.self_attn.q_proj.weight
            String key = peft.startsWith("base_model.model.") ? peft.substring("base_model.model.".length()) : peft;
            boolean isA = key.contains(".lora_A.");
            if (!isA && !key.contains(".lora_B.")) {
                throw new GgufFormatException(adapterDir + ": tensor " + peft + " is neither lora_A nor lora_B");
            }
            String hf = key.replace(isA ? ".lora_A" : ".lora_B", "");
            String name = ggufName(hf) + (isA ? ".lora_a" : ".lora_b");
            long[] shape = a.shapes().get(peft);
            float[] values = a.tensors().get(peft);
            int heads = isA ? 0 : permuteHeads(c, hf);
            float[] stored = heads > 0 ? permute(values, shape[0], heads) : values;
            w.tensor(name, shape, GgmlType.F32, () -> Quantizer.encode(GgmlType.F32, stored));
            types.merge("F32", 1, Integer::sum);
        }
        w.write(out);
        return new Summary(arch, names.size(), types);
    }
}
