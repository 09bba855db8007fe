package dev.finetune.trainer.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the HF Transformers + PEFT goldens under {@code goldens/parity/} (written by
 * {@code tools/reference/generate.sh}). The safetensors files are parsed here with a reader of our own,
 * not the trainer's, so a bug in the trainer's reader cannot make a golden agree with itself.
 */
final class Goldens {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Goldens() {}

    static Path root() {
        URL url = Goldens.class.getResource("/goldens/parity/index.json");
        if (url == null) {
            throw new IllegalStateException("goldens/parity/index.json is not on the test classpath; run tools/reference/generate.sh");
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A preference golden file ({@code goldens/preference/NAME}, written by tools/reference/generate_preference.sh). */
    static JsonNode preference(String name) {
        String resource = "/goldens/preference/" + name;
        try (InputStream in = Goldens.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource.substring(1) + " is not on the test classpath; "
                        + "run tools/reference/generate_preference.sh");
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code cases} array of a preference golden file, one argument per case for a parameterized test. */
    static Stream<JsonNode> preferenceCases(String name) {
        List<JsonNode> out = new ArrayList<>();
        preference(name).path("cases").forEach(out::add);
        return out.stream();
    }

    static JsonNode index() {
        return json(root().resolve("index.json"));
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** One tensor of a golden file: dtype F32 or I64, little-endian data. */
    record Tensor(String dtype, long[] shape, ByteBuffer data) {

        int elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return Math.toIntExact(n);
        }

        float[] floats() {
            if (!dtype.equals("F32")) {
                throw new IllegalStateException("tensor is " + dtype + ", not F32");
            }
            float[] out = new float[elements()];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }

        long[] longs() {
            if (!dtype.equals("I64")) {
                throw new IllegalStateException("tensor is " + dtype + ", not I64");
            }
            long[] out = new long[elements()];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            return out;
        }

        int dim(int i) {
            return Math.toIntExact(shape[i]);
        }
    }

    /** All tensors of a safetensors file: 8-byte header length, JSON header, data. */
    static Map<String, Tensor> tensors(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(buf.getLong(0));
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int base = 8 + headerLength;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            int begin = t.get("data_offsets").get(0).asInt();
            int end = t.get("data_offsets").get(1).asInt();
            ByteBuffer slice = ByteBuffer.wrap(bytes, base + begin, end - begin).slice().order(ByteOrder.LITTLE_ENDIAN);
            out.put(e.getKey(), new Tensor(t.get("dtype").asText(), shape, slice));
        }
        return out;
    }

    static Tensor require(Map<String, Tensor> tensors, String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalStateException("golden has no tensor " + name + " (has " + tensors.keySet() + ")");
        }
        return t;
    }
}
