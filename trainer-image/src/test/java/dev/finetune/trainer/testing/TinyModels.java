package dev.finetune.trainer.testing;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Writes tiny random Hugging Face model directories (config.json + model.safetensors) for tests. */
public final class TinyModels {

    /** Architecture knobs of a tiny model. */
    public record Spec(String modelType, int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads,
            Integer headDim, boolean tied, String dtype, long seed, int shards) {

        public static Spec llama() {
            return new Spec("llama", 64, 32, 64, 2, 4, 2, null, false, "F32", 7, 1);
        }

        public static Spec qwen2() {
            return new Spec("qwen2", 64, 32, 48, 2, 4, 2, null, true, "F32", 11, 1);
        }

        public static Spec qwen3() {
            return new Spec("qwen3", 64, 32, 48, 2, 4, 2, 16, true, "F32", 13, 1);
        }

        public Spec withDtype(String d) {
            return new Spec(modelType, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, tied, d, seed, shards);
        }

        public Spec withShards(int n) {
            return new Spec(modelType, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, tied, dtype, seed, n);
        }

        public Spec withSize(int v, int h, int i, int l, int nh, int kv) {
            return new Spec(modelType, v, h, i, l, nh, kv, headDim, tied, dtype, seed, shards);
        }

        int hd() {
            return headDim != null ? headDim : hidden / heads;
        }
    }

    private TinyModels() {}

    /** Writes a model of {@code spec} into {@code dir/m} and loads it in {@code dtype} into {@code manager}. */
    public static DecoderModel load(Path dir, Spec spec, DataType dtype, NDManager manager) {
        return DecoderModel.load(write(dir.resolve("m"), spec), dtype, manager, Engine.kernels());
    }

    /** Fills the model tensor {@code name} with NaN, so the first forward pass that uses it yields NaN. */
    public static void poison(Path dir, String name) {
        poison(dir, name, v -> java.util.Arrays.fill(v, Float.NaN));
    }

    /**
     * Fills row {@code row} of the 2-D model tensor {@code name} with NaN: an embedding row poisons only the
     * sequences that contain that token.
     */
    public static void poisonRow(Path dir, String name, int row, int rowLength) {
        poison(dir, name, v -> java.util.Arrays.fill(v, row * rowLength, (row + 1) * rowLength, Float.NaN));
    }

    private static void poison(Path dir, String name, java.util.function.Consumer<float[]> poisoning) {
        Path weights = dir.resolve("model.safetensors");
        Path poisoned = dir.resolve("poisoned.safetensors");
        try {
            try (SafetensorsFile f = SafetensorsFile.open(weights)) {
                SafetensorsWriter w = new SafetensorsWriter();
                for (SafetensorsFile.Entry e : f.entries().values()) {
                    float[] v = f.readFloats(e.name());
                    if (e.name().equals(name)) {
                        poisoning.accept(v);
                    }
                    w.addFloats(e.name(), "F32", e.shape(), v);
                }
                w.write(poisoned);
            }
            Files.move(poisoned, weights, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path write(Path dir, Spec s) {
        try {
            Files.createDirectories(dir);
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode c = mapper.createObjectNode();
            c.put("model_type", s.modelType());
            c.putArray("architectures").add(switch (s.modelType()) {
                case "qwen2" -> "Qwen2ForCausalLM";
                case "qwen3" -> "Qwen3ForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                default -> "LlamaForCausalLM";
            });
            c.put("vocab_size", s.vocab());
            c.put("hidden_size", s.hidden());
            c.put("intermediate_size", s.intermediate());
            c.put("num_hidden_layers", s.layers());
            c.put("num_attention_heads", s.heads());
            c.put("num_key_value_heads", s.kvHeads());
            if (s.headDim() != null) {
                c.put("head_dim", s.headDim());
            }
            c.put("rms_norm_eps", 1e-6);
            c.put("rope_theta", 10000.0);
            c.put("max_position_embeddings", 512);
            c.put("tie_word_embeddings", s.tied());
            c.put("torch_dtype", s.dtype().equals("BF16") ? "bfloat16" : "float32");
            c.put("bos_token_id", 1);
            c.put("eos_token_id", 2);
            c.put("hidden_act", "silu");
            mapper.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);

            Map<String, float[]> tensors = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            Random r = new Random(s.seed());
            int d = s.hidden();
            int q = s.heads() * s.hd();
            int kv = s.kvHeads() * s.hd();
            put(tensors, shapes, "model.embed_tokens.weight", r, 1.0, s.vocab(), d);
            for (int i = 0; i < s.layers(); i++) {
                String p = "model.layers." + i + ".";
                norm(tensors, shapes, p + "input_layernorm.weight", r, d);
                norm(tensors, shapes, p + "post_attention_layernorm.weight", r, d);
                put(tensors, shapes, p + "self_attn.q_proj.weight", r, 1 / Math.sqrt(d), q, d);
                put(tensors, shapes, p + "self_attn.k_proj.weight", r, 1 / Math.sqrt(d), kv, d);
                put(tensors, shapes, p + "self_attn.v_proj.weight", r, 1 / Math.sqrt(d), kv, d);
                if (s.modelType().equals("qwen2")) {
                    put(tensors, shapes, p + "self_attn.q_proj.bias", r, 0.1, q);
                    put(tensors, shapes, p + "self_attn.k_proj.bias", r, 0.1, kv);
                    put(tensors, shapes, p + "self_attn.v_proj.bias", r, 0.1, kv);
                }
                if (s.modelType().equals("qwen3")) {
                    norm(tensors, shapes, p + "self_attn.q_norm.weight", r, s.hd());
                    norm(tensors, shapes, p + "self_attn.k_norm.weight", r, s.hd());
                }
                put(tensors, shapes, p + "self_attn.o_proj.weight", r, 1 / Math.sqrt(q), d, q);
                put(tensors, shapes, p + "mlp.gate_proj.weight", r, 1 / Math.sqrt(d), s.intermediate(), d);
                put(tensors, shapes, p + "mlp.up_proj.weight", r, 1 / Math.sqrt(d), s.intermediate(), d);
                put(tensors, shapes, p + "mlp.down_proj.weight", r, 1 / Math.sqrt(s.intermediate()), d, s.intermediate());
            }
            norm(tensors, shapes, "model.norm.weight", r, d);
            if (!s.tied()) {
                put(tensors, shapes, "lm_head.weight", r, 1 / Math.sqrt(d), s.vocab(), d);
            }
            writeShards(dir, tensors, shapes, s.dtype(), s.shards());
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeShards(Path dir, Map<String, float[]> tensors, Map<String, long[]> shapes, String dtype,
            int shards) throws IOException {
        if (shards <= 1) {
            SafetensorsWriter w = new SafetensorsWriter();
            tensors.forEach((name, values) -> w.addFloats(name, dtype, shapes.get(name), values));
            w.write(dir.resolve("model.safetensors"));
            return;
        }
        SafetensorsWriter[] writers = new SafetensorsWriter[shards];
        for (int i = 0; i < shards; i++) {
            writers[i] = new SafetensorsWriter();
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode index = mapper.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        int i = 0;
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            int shard = i++ % shards;
            writers[shard].addFloats(e.getKey(), dtype, shapes.get(e.getKey()), e.getValue());
            map.put(e.getKey(), shardName(shard, shards));
        }
        for (int s = 0; s < shards; s++) {
            writers[s].write(dir.resolve(shardName(s, shards)));
        }
        mapper.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    }

    private static String shardName(int shard, int shards) {
        return String.format("model-%05d-of-%05d.safetensors", shard + 1, shards);
    }

    private static void put(Map<String, float[]> t, Map<String, long[]> s, String name, Random r, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        t.put(name, v);
        s.put(name, shape);
    }

    private static void norm(Map<String, float[]> t, Map<String, long[]> s, String name, Random r, long size) {
        float[] v = new float[(int) size];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (1 + 0.1 * r.nextGaussian());
        }
        t.put(name, v);
        s.put(name, new long[] {size});
    }
}
