package dev.finetune.trainer.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** fp32 values into ggml bytes: F32, F16 (round to nearest even) and Q8_0 as ggml's {@code quantize_row_q8_0_ref}. */
final class Quantizer {

    private Quantizer() {}

    static byte[] encode(GgmlType type, float[] x) {
        return switch (type) {
            case F32 -> {
                ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(x);
                yield b.array();
            }
            case F16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * x.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : x) {
                    b.putShort(Float.floatToFloat16(v));
                }
                yield b.array();
            }
            case Q8_0 -> q8_0(x);
            default -> throw new IllegalArgumentException("export writes F32, F16 or Q8_0, not " + type);
        };
    }

    /** Per block of 32: d = max|x| / 127 (stored fp16), q = round(x / d) (halves away from zero, like C's roundf). */
    static byte[] q8_0(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int block = 0; block < x.length / 32; block++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * block + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                float v = x[32 * block + j] * id;
                double rounded = Math.floor(Math.abs((double) v) + 0.5);
                b.put((byte) (v >= 0 ? rounded : -rounded));
            }
        }
        return b.array();
    }
}
