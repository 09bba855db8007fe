package dev.finetune.gpucheck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The HF parity goldens the bundle carries ({@code goldens/parity/} of trainer-image's test resources, written
 * by tools/reference/generate.sh): F32 and I64 tensors of a safetensors file, and the stated tolerances of
 * {@code index.json}. Read with the trainer's safetensors reader: the CPU parity suite checks that reader against
 * its own independent parser of the same files.
 */
final class Goldens {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final JsonNode index;

    Goldens(Path root) throws IOException {
        this.root = root;
        Path indexFile = root.resolve("index.json");
        if (!Files.isRegularFile(indexFile)) {
            throw new IOException("no parity goldens at " + indexFile + " (the bundle is incomplete: rerun tools/gpu-check/pack)");
        }
        this.index = JSON.readTree(indexFile.toFile());
    }

    Path root() {
        return root;
    }

    JsonNode index() {
        return index;
    }

    /** {@code |actual - expected| <= atol + rtol |expected|} element-wise, or {@code rtol max|expected| + atol} when scaled. */
    record Tolerance(String name, double atol, double rtol, boolean scaled) {

        /** Returns the max abs error; throws naming the worst element when any element exceeds the tolerance. */
        double check(String what, float[] actual, float[] expected) {
            Report.require(actual.length == expected.length, what + ": " + actual.length + " values, golden " + expected.length);
            double maxExpected = 0;
            for (float v : expected) {
                maxExpected = Math.max(maxExpected, Math.abs(v));
            }
            double maxAbs = 0;
            for (int i = 0; i < actual.length; i++) {
                Report.require(Float.isFinite(actual[i]), what + ": value " + i + " is " + actual[i]);
                double diff = Math.abs((double) actual[i] - expected[i]);
                double allowed = scaled ? atol + rtol * maxExpected : atol + rtol * Math.abs(expected[i]);
                Report.require(diff <= allowed, String.format(java.util.Locale.ROOT,
                        "%s: index %d is %.9g, golden %.9g (|diff| %.3g > %.3g, tolerance %s)", what, i, actual[i],
                        expected[i], diff, allowed, name));
                maxAbs = Math.max(maxAbs, diff);
            }
            return maxAbs;
        }
    }

    Tolerance tolerance(String name) {
        JsonNode t = index.path("tolerances").get(name);
        if (t == null) {
            throw new IllegalStateException(root.resolve("index.json") + " states no tolerance \"" + name + "\"");
        }
        return new Tolerance(name, t.get("atol").asDouble(), t.get("rtol").asDouble(), t.get("kind").asText().equals("scaled"));
    }

    /** One tensor: dtype (F32 or I64), shape, little-endian data. */
    record Tensor(String dtype, long[] shape, ByteBuffer data) {

        float[] floats() {
            Report.require(dtype.equals("F32"), "golden tensor is " + dtype + ", not F32");
            float[] out = new float[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }

        long[] longs() {
            Report.require(dtype.equals("I64"), "golden tensor is " + dtype + ", not I64");
            long[] out = new long[data.remaining() / 8];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            return out;
        }
    }

    static Map<String, Tensor> tensors(Path file) {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, Tensor> out = new HashMap<>();
            for (SafetensorsFile.Entry e : st.entries().values()) {
                out.put(e.name(), new Tensor(e.dtype(), e.shape(), st.map(e.name())));
            }
            return out;
        }
    }

    static Tensor require(Map<String, Tensor> tensors, String name, Path file) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalStateException(file + " has no tensor " + name);
        }
        return t;
    }
}
