package dev.finetune.trainer.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file the way llama.cpp's gguf writer lays it out: header, metadata, tensor directory, then
 * the tensor data, each tensor 32-byte aligned. Tensors are produced one at a time by their {@link Source}
 * while writing, so memory holds one tensor. Metadata values are typed explicitly (GGUF tells UINT32 from
 * INT32 and FLOAT32 from FLOAT64).
 */
public final class GgufWriter {

    static final int ALIGNMENT = 32;

    /** Produces a tensor's ggml bytes when the writer reaches it. */
    public interface Source {
        byte[] bytes() throws IOException;
    }

    private record Value(GgufValueType type, GgufValueType element, Object value) {}

    private record Tensor(String name, long[] shape, GgmlType type, long bytes, Source source) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter string(String key, String value) {
        return put(key, new Value(GgufValueType.STRING, null, value));
    }

    public GgufWriter uint32(String key, long value) {
        return put(key, new Value(GgufValueType.UINT32, null, value));
    }

    public GgufWriter float32(String key, double value) {
        return put(key, new Value(GgufValueType.FLOAT32, null, (float) value));
    }

    public GgufWriter bool(String key, boolean value) {
        return put(key, new Value(GgufValueType.BOOL, null, value));
    }

    public GgufWriter strings(String key, List<String> values) {
        return put(key, new Value(GgufValueType.ARRAY, GgufValueType.STRING, values));
    }

    public GgufWriter int32s(String key, List<Integer> values) {
        return put(key, new Value(GgufValueType.ARRAY, GgufValueType.INT32, values));
    }

    private GgufWriter put(String key, Value v) {
        if (metadata.put(key, v) != null) {
            throw new IllegalArgumentException("metadata key " + key + " set twice");
        }
        return this;
    }

    /** A tensor of PyTorch shape {@code shape} stored as {@code type}; {@code source} yields exactly its bytes. */
    public GgufWriter tensor(String name, long[] shape, GgmlType type, Source source) {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (shape[shape.length - 1] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + shape[shape.length - 1]
                    + " are not a multiple of " + type + "'s block of " + type.blockSize);
        }
        tensors.add(new Tensor(name, shape.clone(), type, type.bytesFor(elements), source));
        return this;
    }

    /** Writes to {@code file} through a temporary sibling, renamed when complete. */
    public void write(Path file) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 20)) {
            Out out = new Out(os);
            out.u32(GgufFile.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                out.string(e.getKey());
                Value v = e.getValue();
                out.u32(v.type().ordinal());
                if (v.type() == GgufValueType.ARRAY) {
                    List<?> list = (List<?>) v.value();
                    out.u32(v.element().ordinal());
                    out.u64(list.size());
                    for (Object o : list) {
                        out.scalar(v.element(), o);
                    }
                } else {
                    out.scalar(v.type(), v.value());
                }
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name());
                out.u32(t.shape().length);
                for (int d = t.shape().length - 1; d >= 0; d--) {
                    out.u64(t.shape()[d]);
                }
                out.u32(t.type().code);
                out.u64(offset);
                offset += padded(t.bytes());
            }
            out.pad();
            for (Tensor t : tensors) {
                byte[] data = t.source().bytes();
                if (data.length != t.bytes()) {
                    throw new IllegalStateException("tensor " + t.name() + ": " + data.length + " bytes, expected " + t.bytes());
                }
                out.raw(data);
                out.pad();
            }
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static long padded(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static final class Out {
        private final OutputStream os;
        private long position;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Out(OutputStream os) {
            this.os = os;
        }

        void raw(byte[] b) throws IOException {
            os.write(b);
            position += b.length;
        }

        void u32(long v) throws IOException {
            scratch.clear();
            os.write(scratch.putInt((int) v).array(), 0, 4);
            position += 4;
        }

        void u64(long v) throws IOException {
            scratch.clear();
            os.write(scratch.putLong(v).array(), 0, 8);
            position += 8;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            raw(b);
        }

        void scalar(GgufValueType type, Object v) throws IOException {
            switch (type) {
                case STRING -> string((String) v);
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case FLOAT32 -> {
                    scratch.clear();
                    os.write(scratch.putFloat(((Number) v).floatValue()).array(), 0, 4);
                    position += 4;
                }
                case BOOL -> raw(new byte[] {(byte) (((Boolean) v) ? 1 : 0)});
                default -> throw new IllegalArgumentException("the writer does not write " + type);
            }
        }

        void pad() throws IOException {
            int n = (int) (padded(position) - position);
            if (n > 0) {
                raw(new byte[n]);
            }
        }
    }
}
