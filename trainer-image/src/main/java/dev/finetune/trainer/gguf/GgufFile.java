package dev.finetune.trainer.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3, little-endian), memory-mapped: the header, every metadata key/value and the
 * tensor directory are parsed on open; tensor data stays in the mapping until {@link #data} or
 * {@link Dequantizer} reads it. Close it to unmap.
 *
 * <p>Metadata values are {@link Long} (every integer type; UINT64 above {@code Long.MAX_VALUE} wraps),
 * {@link Float}, {@link Double}, {@link Boolean}, {@link String} or a {@link List} of those.
 */
public final class GgufFile implements AutoCloseable {

    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    static final int DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensor> tensors;
    private final Map<String, Long> valueOffsets;
    private final long dataStart;

    private GgufFile(Path file, Arena arena, MemorySegment mapped, int version, Map<String, Object> metadata,
            Map<String, GgufTensor> tensors, Map<String, Long> valueOffsets, long dataStart) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.valueOffsets = valueOffsets;
        this.dataStart = dataStart;
    }

    public static GgufFile open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            GgufFile parsed = new Reader(file, mapped).parse(arena);
            return parsed;
        } catch (IOException e) {
            arena.close();
            throw new GgufFormatException(file + ": cannot be read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public int version() {
        return version;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** Absolute offset of the tensor data section. */
    public long dataStart() {
        return dataStart;
    }

    /** The raw bytes of a tensor, a view into the mapping. */
    public MemorySegment data(GgufTensor tensor) {
        return mapped.asSlice(tensor.offset(), tensor.bytes());
    }

    /** "metadata key K (value at offset N)": where a key's value sits, for error messages. */
    public String locate(String key) {
        Long at = valueOffsets.get(key);
        return file + ": metadata key " + key + (at == null ? "" : " (value at offset " + at + ")");
    }

    /** A required string key, else a located error. */
    public String string(String key) {
        return require(key, String.class);
    }

    /** A required integer key, else a located error. */
    public long integer(String key) {
        return require(key, Long.class);
    }

    /** An optional integer key. */
    public Long optionalInteger(String key) {
        return metadata.containsKey(key) ? require(key, Long.class) : null;
    }

    /** An optional number (any integer or float type) as a double. */
    public Double optionalNumber(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Float f) {
            return Double.parseDouble(Float.toString(f)); // the decimal the writer meant: 1e-5, not 9.99999975e-6
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new GgufFormatException(locate(key) + " is " + describe(v) + ", expected a number");
    }

    /** A required array key whose elements are all of {@code element}. */
    public <T> List<T> array(String key, Class<T> element) {
        List<?> list = require(key, List.class);
        for (int i = 0; i < list.size(); i++) {
            if (!element.isInstance(list.get(i))) {
                throw new GgufFormatException(locate(key) + ": element " + i + " is " + describe(list.get(i))
                        + ", expected " + element.getSimpleName());
            }
        }
        @SuppressWarnings("unchecked")
        List<T> typed = (List<T>) list;
        return typed;
    }

    private <T> T require(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException(file + ": metadata key " + key + " is missing; the file was not written by a "
                    + "llama.cpp converter that this importer understands");
        }
        if (!type.isInstance(v)) {
            throw new GgufFormatException(locate(key) + " is " + describe(v) + ", expected " + type.getSimpleName());
        }
        return type.cast(v);
    }

    private static String describe(Object v) {
        return v instanceof List<?> l ? "an array of " + l.size() : "a " + v.getClass().getSimpleName() + " (" + v + ")";
    }

    @Override
    public void close() {
        arena.close();
    }

    /** A bounds-checked little-endian cursor over the mapping; every failure names the file and offset. */
    private static final class Reader {
        private final Path file;
        private final MemorySegment in;
        private long pos;
        private String where = "header";

        Reader(Path file, MemorySegment in) {
            this.file = file;
            this.in = in;
        }

        GgufFile parse(Arena arena) {
            if (in.byteSize() < 4 || in.get(INT, 0) != MAGIC) {
                throw new GgufFormatException(file + ": not a GGUF file (the first 4 bytes are not \"GGUF\")");
            }
            pos = 4;
            int version = u32();
            if (version != 2 && version != 3) {
                throw new GgufFormatException(file + ": GGUF version " + version + " at offset 4 is not supported "
                        + "(versions 2 and 3 are); convert it again with a current llama.cpp");
            }
            long tensorCount = count("tensor count");
            long kvCount = count("metadata count");
            Map<String, Object> metadata = new LinkedHashMap<>();
            Map<String, Long> valueOffsets = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                where = "metadata entry " + i;
                String key = string();
                where = "metadata key " + key;
                int typeCode = u32();
                GgufValueType type = GgufValueType.of(typeCode);
                if (type == null) {
                    throw fail("unknown metadata value type " + typeCode, pos - 4);
                }
                valueOffsets.put(key, pos);
                if (metadata.put(key, value(type)) != null) {
                    throw fail("duplicate metadata key", pos);
                }
            }
            long alignment = DEFAULT_ALIGNMENT;
            if (metadata.get("general.alignment") instanceof Long a) {
                if (a <= 0 || (a & (a - 1)) != 0) {
                    throw new GgufFormatException(file + ": metadata key general.alignment is " + a + ", not a power of two");
                }
                alignment = a;
            }
            record Info(String name, long[] shape, long typeCode, long relative, long infoOffset) {}
            List<Info> infos = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                where = "tensor entry " + i;
                long start = pos;
                String name = string();
                where = "tensor " + name;
                int dims = u32();
                if (dims < 1 || dims > 4) {
                    throw fail(dims + " dimensions (GGUF allows 1 to 4)", pos - 4);
                }
                long[] shape = new long[dims];
                for (int d = 0; d < dims; d++) {
                    long n = i64();
                    if (n <= 0) {
                        throw fail("dimension " + d + " is " + n, pos - 8);
                    }
                    shape[dims - 1 - d] = n;
                }
                long typeCode = Integer.toUnsignedLong(u32());
                long relative = i64();
                infos.add(new Info(name, shape, typeCode, relative, start));
            }
            long dataStart = (pos + alignment - 1) / alignment * alignment;
            Map<String, GgufTensor> tensors = new LinkedHashMap<>();
            for (Info info : infos) {
                GgmlType type = GgmlType.of(info.typeCode());
                if (type == null) {
                    throw new GgufFormatException(file + ": tensor " + info.name() + " (entry at offset " + info.infoOffset()
                            + ") has type " + GgmlType.nameOf(info.typeCode()) + ", which this importer cannot dequantise; "
                            + "supported: " + Arrays.toString(GgmlType.values()));
                }
                long elements = 1;
                try {
                    for (long d : info.shape()) {
                        elements = Math.multiplyExact(elements, d);
                    }
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(file + ": tensor " + info.name() + " (entry at offset " + info.infoOffset()
                            + ") has shape " + Arrays.toString(info.shape()) + ", more elements than a file can hold");
                }
                if (info.shape()[info.shape().length - 1] % type.blockSize != 0) {
                    throw new GgufFormatException(file + ": tensor " + info.name() + " has a row of "
                            + info.shape()[info.shape().length - 1] + " elements, not a multiple of " + type + "'s block of "
                            + type.blockSize);
                }
                // every type takes more than 4 bits per element, so a tensor larger than this cannot fit in the file
                long bytes = elements > 2 * in.byteSize() ? Long.MAX_VALUE / 2 : type.bytesFor(elements);
                long offset = dataStart + info.relative();
                if (info.relative() < 0 || info.relative() > in.byteSize() || offset + bytes > in.byteSize()) {
                    throw new GgufFormatException(file + ": tensor " + info.name() + " (" + type + ", shape "
                            + Arrays.toString(info.shape()) + ") needs bytes " + offset + ".." + (offset + bytes)
                            + " but the file ends at " + in.byteSize() + ": the file is truncated; download it again");
                }
                if (tensors.put(info.name(), new GgufTensor(info.name(), info.shape(), type, offset, bytes)) != null) {
                    throw new GgufFormatException(file + ": tensor " + info.name() + " appears twice");
                }
            }
            return new GgufFile(file, arena, in, version, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors), valueOffsets, dataStart);
        }

        private Object value(GgufValueType type) {
            return switch (type) {
                case UINT8 -> (long) (u8() & 0xFF);
                case INT8 -> (long) u8();
                case UINT16 -> (long) (u16() & 0xFFFF);
                case INT16 -> (long) u16();
                case UINT32 -> Integer.toUnsignedLong(u32());
                case INT32 -> (long) u32();
                case UINT64, INT64 -> i64();
                case FLOAT32 -> { need(4); float v = in.get(FLOAT, pos); pos += 4; yield v; }
                case FLOAT64 -> { need(8); double v = in.get(DOUBLE, pos); pos += 8; yield v; }
                case BOOL -> {
                    byte b = u8();
                    if (b != 0 && b != 1) {
                        throw fail("boolean byte is " + b, pos - 1);
                    }
                    yield b == 1;
                }
                case STRING -> string();
                case ARRAY -> {
                    int elementCode = u32();
                    GgufValueType element = GgufValueType.of(elementCode);
                    if (element == null) {
                        throw fail("unknown array element type " + elementCode, pos - 4);
                    }
                    long n = count("array length");
                    List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 16));
                    for (long i = 0; i < n; i++) {
                        list.add(value(element));
                    }
                    yield Collections.unmodifiableList(list);
                }
            };
        }

        private long count(String what) {
            long n = i64();
            // every element takes at least one byte, so a count beyond the file's end is corrupt, not just large
            if (n < 0 || n > in.byteSize() - pos) {
                throw fail(what + " " + Long.toUnsignedString(n) + " exceeds the bytes left in the file ("
                        + (in.byteSize() - pos) + "): the file is truncated or corrupt", pos - 8);
            }
            return n;
        }

        private String string() {
            long start = pos;
            long n = count("string length");
            need(n);
            byte[] bytes = in.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
            pos += n;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw fail("string is not valid UTF-8", start);
            }
        }

        private byte u8() {
            need(1);
            return in.get(ValueLayout.JAVA_BYTE, pos++);
        }

        private short u16() {
            need(2);
            short v = in.get(SHORT, pos);
            pos += 2;
            return v;
        }

        private int u32() {
            need(4);
            int v = in.get(INT, pos);
            pos += 4;
            return v;
        }

        private long i64() {
            need(8);
            long v = in.get(LONG, pos);
            pos += 8;
            return v;
        }

        private void need(long n) {
            if (n > in.byteSize() - pos) {
                throw fail("needs " + n + " more bytes but the file ends at " + in.byteSize()
                        + ": the file is truncated; download it again", pos);
            }
        }

        private GgufFormatException fail(String what, long offset) {
            return new GgufFormatException(file + ": " + where + " at offset " + offset + ": " + what);
        }
    }
}
