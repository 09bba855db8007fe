package dev.finetune.trainer.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** safetensors dtype names and the conversions between their little-endian bytes and fp32. */
public final class DType {

    public static final String F32 = "F32";
    public static final String BF16 = "BF16";
    public static final String F16 = "F16";
    public static final String I64 = "I64";

    private DType() {}

    public static int width(String dtype, String where) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "BF16", "F16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> throw new SafetensorsException(where + " has unknown dtype \"" + dtype + "\"");
        };
    }

    /** Converts F32/BF16/F16 bytes to floats; exact (bf16 and fp16 values are representable in fp32). */
    public static float[] toFloats(String dtype, ByteBuffer bytes, int count) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.float16ToFloat(b.getShort(2 * i));
                }
            }
            default -> throw new SafetensorsException("dtype " + dtype + " cannot be read as floating point weights");
        }
        return out;
    }

    /** Writes fp32 {@code bytes} of {@code dtype} into a new direct fp32 buffer (native order) for tensor creation. */
    public static ByteBuffer toFloat32Direct(String dtype, ByteBuffer bytes, int count) {
        ByteBuffer out = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out.putInt(4 * i, (b.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out.putFloat(4 * i, Float.float16ToFloat(b.getShort(2 * i)));
                }
            }
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    out.putFloat(4 * i, b.getFloat(4 * i));
                }
            }
            default -> throw new SafetensorsException("dtype " + dtype + " cannot be read as floating point weights");
        }
        return out;
    }

    /** Round-to-nearest-even fp32 -> bf16 bits (what torch's {@code .to(torch.bfloat16)} does for finite values). */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) 0x7FC0;
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static byte[] encode(String dtype, float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * width(dtype, "encode")).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> out.putFloat(v);
                case BF16 -> out.putShort(toBf16(v));
                case F16 -> out.putShort(Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException("cannot encode floats as " + dtype);
            }
        }
        return out.array();
    }
}
