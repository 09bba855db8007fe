package dev.finetune.trainer.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one {@code .safetensors} file: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus optional {@code __metadata__}), then the raw
 * little-endian tensor bytes. Tensor bytes are memory-mapped on demand, never read into the heap.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** One tensor's header entry; offsets are relative to the start of the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        /** The number of elements; throws ArithmeticException when it does not fit a long. */
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsException(path + ": file is " + size + " bytes, too short for a safetensors header");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > 100_000_000L || 8 + headerLength > size) {
                throw new SafetensorsException(path + ": header length " + headerLength
                        + " does not fit the file size " + size + " (truncated or not a safetensors file)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            JsonNode json;
            try {
                json = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new SafetensorsException(path + ": header is not valid JSON: " + e.getOriginalMessage()
                        + (e.getLocation() == null ? "" : " (header column " + e.getLocation().getColumnNr() + ")"), e);
            }
            long dataStart = 8 + headerLength;
            long dataLength = size - dataStart;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String name = field.getKey();
                JsonNode node = field.getValue();
                if (name.equals("__metadata__")) {
                    node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                String dtype = node.path("dtype").asText();
                int width = DType.width(dtype, path + ": tensor \"" + name + "\"");
                JsonNode shapeNode = node.get("shape");
                JsonNode offsets = node.get("data_offsets");
                if (shapeNode == null || !shapeNode.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
                    throw new SafetensorsException(path + ": tensor \"" + name + "\" lacks shape or data_offsets "
                            + "(a list of dimensions and a list [begin, end])");
                }
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = nonNegative(shapeNode.get(i), path, name, "shape");
                }
                Entry entry = new Entry(name, dtype, shape, nonNegative(offsets.get(0), path, name, "data_offsets"),
                        nonNegative(offsets.get(1), path, name, "data_offsets"));
                long expected;
                try {
                    expected = Math.multiplyExact(entry.elements(), width);
                } catch (ArithmeticException overflow) {
                    throw new SafetensorsException(path + ": tensor \"" + name + "\" has shape "
                            + java.util.Arrays.toString(shape) + ", too large to address");
                }
                if (entry.end() - entry.begin() != expected || entry.end() > dataLength) {
                    throw new SafetensorsException(path + ": tensor \"" + name + "\" has data_offsets ["
                            + entry.begin() + ", " + entry.end() + ") but shape " + java.util.Arrays.toString(shape)
                            + " of " + dtype + " needs " + expected + " bytes within a data section of " + dataLength);
                }
                entries.put(name, entry);
            }
            return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** A shape dimension or data offset: a JSON integer >= 0. */
    private static long nonNegative(JsonNode n, Path path, String tensor, String field) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw new SafetensorsException(path + ": tensor \"" + tensor + "\" has " + field + " entry " + n
                    + ", expected an integer >= 0");
        }
        return n.asLong();
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafetensorsException(path + ": no tensor named \"" + name + "\"");
        }
        return e;
    }

    /** The tensor's raw bytes, memory-mapped read-only, little-endian. */
    public ByteBuffer map(String name) {
        Entry e = entry(name);
        long length = e.end() - e.begin();
        if (length > Integer.MAX_VALUE) {
            throw new SafetensorsException(path + ": tensor \"" + name + "\" is " + length
                    + " bytes; tensors over 2 GiB are not supported by this reader");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException ex) {
            throw new SafetensorsException(path + ": cannot map tensor \"" + name + "\": " + ex.getMessage(), ex);
        }
    }

    /** The tensor converted to fp32 values on the heap (for small tensors: adapters, tests, checkpoints). */
    public float[] readFloats(String name) {
        Entry e = entry(name);
        if (!java.util.Set.of(DType.F32, DType.BF16, DType.F16).contains(e.dtype())) {
            throw new SafetensorsException(path + ": tensor \"" + name + "\" has dtype " + e.dtype()
                    + "; only F32, BF16 and F16 tensors are read as floating point values");
        }
        return DType.toFloats(e.dtype(), map(name), Math.toIntExact(e.elements()));
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
