package dev.finetune.trainer.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.trainer.safetensors.DType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Turns a GGUF model into a Hugging Face model directory: {@code model.safetensors} (every tensor dequantised,
 * q/k rows put back in Hugging Face order, stored as bf16 or fp32), {@code config.json},
 * {@code generation_config.json}, {@code tokenizer.json} and {@code tokenizer_config.json}.
 * Tensors are dequantised and written one at a time, so memory holds one tensor, not the model.
 */
public final class GgufImporter {

    /** The stored precision of the imported weights. */
    public enum Precision {
        BF16(DType.BF16, "bfloat16"), FP32(DType.F32, "float32");

        final String safetensors;
        final String torch;

        Precision(String safetensors, String torch) {
            this.safetensors = safetensors;
            this.torch = torch;
        }

        public static Precision parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "bf16", "bfloat16" -> BF16;
                case "fp32", "f32", "float32" -> FP32;
                default -> throw new IllegalArgumentException("dtype \"" + s + "\": use bf16 or fp32");
            };
        }
    }

    /** What an import wrote: the architecture, counts, and the source types seen (e.g. {Q4_1=211, F32=61}). */
    public record Summary(String architecture, int tensors, long parameters, int vocabSize,
            java.util.Map<String, Integer> sourceTypes) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GgufImporter() {}

    public static Summary importModel(Path ggufFile, Path out, Precision precision) throws IOException {
        try (GgufFile gguf = GgufFile.open(ggufFile)) {
            return importModel(gguf, out, precision);
        }
    }

    public static Summary importModel(GgufFile gguf, Path out, Precision precision) throws IOException {
        GgufArchitecture arch = GgufArchitecture.of(gguf);
        GgufTokenizer tokenizer = GgufTokenizer.of(gguf);
        record Planned(GgufTensor source, String name, int unpermuteHeads) {}
        List<Planned> plan = new ArrayList<>();
        boolean attentionBias = false;
        for (GgufTensor t : gguf.tensors().values()) {
            String name = arch.hfName(t);
            plan.add(new Planned(t, name, arch.unpermutes(name)));
            attentionBias |= name.endsWith("self_attn.q_proj.bias");
        }
        plan.sort(Comparator.comparing(Planned::name));
        boolean tied = plan.stream().noneMatch(p -> p.name().equals("lm_head.weight"));
        GgufTensor embedding = gguf.tensors().get("token_embd.weight");
        if (embedding == null) {
            throw new GgufFormatException(gguf.file() + ": has no token_embd.weight tensor; not a complete model");
        }
        int vocab = (int) embedding.shape()[0];
        if (vocab < tokenizer.vocabSize()) {
            throw new GgufFormatException(gguf.file() + ": token_embd.weight has " + vocab + " rows but the tokenizer has "
                    + tokenizer.vocabSize() + " tokens");
        }
        for (Planned p : plan) {
            if (p.unpermuteHeads() > 0 && p.source().shape()[0] % (2L * p.unpermuteHeads()) != 0) {
                throw new GgufFormatException(gguf.file() + ": tensor " + p.source().name() + " has " + p.source().shape()[0]
                        + " rows, not a multiple of 2 x " + p.unpermuteHeads() + " heads");
            }
        }

        Files.createDirectories(out);
        ObjectNode config = arch.config(vocab, tied, attentionBias, precision.torch);
        write(out.resolve("config.json"), config);
        ObjectNode generation = JSON.createObjectNode();
        if (config.has("bos_token_id")) {
            generation.set("bos_token_id", config.get("bos_token_id"));
        }
        if (config.has("eos_token_id")) {
            generation.set("eos_token_id", config.get("eos_token_id"));
        }
        write(out.resolve("generation_config.json"), generation);
        write(out.resolve("tokenizer.json"), tokenizer.tokenizerJson());
        write(out.resolve("tokenizer_config.json"), tokenizer.tokenizerConfig(config.get("max_position_embeddings").asInt()));

        // safetensors: an 8-byte header length, a JSON header padded with spaces to 8 bytes, then the data
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt").put("source", "gguf " + gguf.file().getFileName());
        int width = precision == Precision.BF16 ? 2 : 4;
        long offset = 0;
        long parameters = 0;
        java.util.Map<String, Integer> sourceTypes = new java.util.TreeMap<>();
        for (Planned p : plan) {
            ObjectNode entry = header.putObject(p.name());
            entry.put("dtype", precision.safetensors);
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(p.source().shape()).forEach(shape::add);
            long bytes = p.source().elements() * width;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
            parameters += p.source().elements();
            sourceTypes.merge(p.source().typeName(), 1, Integer::sum);
        }
        byte[] json = new ObjectMapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        Path weights = out.resolve("model.safetensors");
        Path partial = out.resolve("model.safetensors.partial");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 20)) {
            os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            os.write(headerBytes);
            for (Planned p : plan) {
                float[] values = Dequantizer.toFloats(gguf, p.source());
                if (p.unpermuteHeads() > 0) {
                    values = unpermute(values, p.source().shape(), p.unpermuteHeads());
                }
                os.write(encode(values, precision));
            }
        }
        Files.move(partial, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return new Summary(arch.name(), plan.size(), parameters, vocab, sourceTypes);
    }

    /**
     * Reverses llama.cpp's {@code permute}: within each head, GGUF row {@code 2i + j} (rotary pair i, half j)
     * goes back to Hugging Face row {@code j·half + i}. Works on a weight [rows, cols] and a bias [rows].
     */
    static float[] unpermute(float[] gguf, long[] shape, int heads) {
        int rows = (int) shape[0];
        int cols = gguf.length / rows;
        int headRows = rows / heads;
        int half = headRows / 2;
        float[] hf = new float[gguf.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int from = h * headRows + 2 * i + j;
                    int to = h * headRows + j * half + i;
                    System.arraycopy(gguf, from * cols, hf, to * cols, cols);
                }
            }
        }
        return hf;
    }

    private static byte[] encode(float[] values, Precision precision) {
        ByteBuffer b = ByteBuffer.allocate(values.length * (precision == Precision.BF16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        if (precision == Precision.BF16) {
            for (float v : values) {
                b.putShort(DType.toBf16(v));
            }
        } else {
            b.asFloatBuffer().put(values);
        }
        return b.array();
    }

    private static void write(Path file, ObjectNode json) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(json) + "\n");
    }
}
