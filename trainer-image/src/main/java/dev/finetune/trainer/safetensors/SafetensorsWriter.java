package dev.finetune.trainer.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a safetensors file the way the Python library does: header padded with spaces to a
 * multiple of 8 bytes (so every tensor is 8-byte aligned), {@code __metadata__ = {"format":"pt"}}.
 */
public final class SafetensorsWriter {

    private record Pending(String dtype, long[] shape, byte[] data) {}

    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter() {
        metadata.put("format", "pt");
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor from little-endian bytes. */
    public SafetensorsWriter add(String name, String dtype, long[] shape, byte[] littleEndianData) {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (elements * DType.width(dtype, name) != littleEndianData.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + littleEndianData.length
                    + " bytes do not match shape " + java.util.Arrays.toString(shape) + " of " + dtype);
        }
        if (tensors.putIfAbsent(name, new Pending(dtype, shape.clone(), littleEndianData)) != null) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        return this;
    }

    public SafetensorsWriter addFloats(String name, String dtype, long[] shape, float[] values) {
        return add(name, dtype, shape, DType.encode(dtype, values));
    }

    public void write(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, Pending> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            ArrayNode offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offset += e.getValue().data().length;
            offsets.add(offset);
        }
        byte[] json = mapper.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        java.util.Arrays.fill(headerBytes, (byte) ' ');
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(headerBytes);
            for (Pending p : tensors.values()) {
                out.write(p.data());
            }
        }
    }
}
