package dev.finetune.trainer.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes small GGUF v3 files for tests, the layout llama.cpp's gguf writer produces (32-byte aligned data). */
final class GgufTestWriter {

    /** A metadata value with an explicit GGUF type (Java types alone cannot tell UINT32 from INT32). */
    record Typed(GgufValueType type, Object value) {}

    /** An array of one element type. */
    record Array(GgufValueType element, List<?> values) {}

    private record Tensor(String name, long[] ggufDims, int type, byte[] data) {}

    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    int version = 3;

    GgufTestWriter put(String key, Object value) {
        metadata.put(key, value);
        return this;
    }

    /** A tensor given in PyTorch shape order; {@code data} is its raw ggml bytes. */
    GgufTestWriter tensor(String name, long[] shape, int type, byte[] data) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        tensors.add(new Tensor(name, dims, type, data));
        return this;
    }

    GgufTestWriter f32(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, shape, GgmlType.F32.code, b.array());
    }

    byte[] bytes() {
        Out out = new Out();
        out.u32(GgufFile.MAGIC);
        out.u32(version);
        out.u64(tensors.size());
        out.u64(metadata.size());
        metadata.forEach((k, v) -> {
            out.string(k);
            out.value(v, true);
        });
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            out.string(t.name());
            out.u32(t.ggufDims().length);
            for (long d : t.ggufDims()) {
                out.u64(d);
            }
            out.u32(t.type());
            out.u64(offset);
            offsets.add(offset);
            offset += (t.data().length + 31) / 32 * 32;
        }
        out.pad();
        for (Tensor t : tensors) {
            out.bytes.writeBytes(t.data());
            out.pad();
        }
        return out.bytes.toByteArray();
    }

    Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    private static final class Out {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        void u32(long v) {
            bytes.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        void u64(long v) {
            bytes.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes.writeBytes(b);
        }

        void pad() {
            while (bytes.size() % 32 != 0) {
                bytes.write(0);
            }
        }

        void value(Object v, boolean withType) {
            switch (v) {
                case Typed t -> {
                    if (withType) {
                        u32(t.type().ordinal());
                    }
                    raw(t.type(), t.value());
                }
                case Array a -> {
                    if (withType) {
                        u32(GgufValueType.ARRAY.ordinal());
                    }
                    u32(a.element().ordinal());
                    u64(a.values().size());
                    for (Object e : a.values()) {
                        if (a.element() == GgufValueType.ARRAY) {
                            value(e, false);
                        } else {
                            raw(a.element(), e);
                        }
                    }
                }
                case String s -> value(new Typed(GgufValueType.STRING, s), withType);
                case Boolean b -> value(new Typed(GgufValueType.BOOL, b), withType);
                case Integer i -> value(new Typed(GgufValueType.UINT32, i.longValue()), withType);
                case Long l -> value(new Typed(GgufValueType.UINT64, l), withType);
                case Float f -> value(new Typed(GgufValueType.FLOAT32, f), withType);
                case Double d -> value(new Typed(GgufValueType.FLOAT64, d), withType);
                default -> throw new IllegalArgumentException(v.getClass().toString());
            }
        }

        void raw(GgufValueType type, Object v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            switch (type) {
                case UINT8, INT8 -> bytes.write(((Number) v).intValue());
                case UINT16, INT16 -> bytes.write(b.putShort(((Number) v).shortValue()).array(), 0, 2);
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> bytes.write(b.putFloat(((Number) v).floatValue()).array(), 0, 4);
                case FLOAT64 -> bytes.write(b.putDouble(((Number) v).doubleValue()).array(), 0, 8);
                case BOOL -> bytes.write(((Boolean) v) ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> throw new IllegalArgumentException("nested arrays go through value()");
            }
        }
    }
}
