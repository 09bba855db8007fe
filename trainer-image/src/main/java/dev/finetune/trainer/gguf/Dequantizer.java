package dev.finetune.trainer.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Turns a tensor's ggml blocks into fp32 values, element for element what ggml's {@code dequantize_row_*}
 * (and gguf-py's {@code quants.dequantize}) compute: each product is one fp32 multiply, no fused multiply-add,
 * so the result is bit-identical to theirs.
 *
 * <p>Block layouts (ggml-common.h): Q8_0 = fp16 scale d + 32 int8, x = d·q. Q4_0 = d + 16 bytes of nibbles,
 * x = d·(q − 8), the low nibbles hold elements 0..15 and the high ones 16..31. Q4_1 = d, min m + nibbles,
 * x = d·q + m. Q4_K = 256 elements: d, dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles.
 * Q6_K = 256 elements: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, d.
 */
public final class Dequantizer {

    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequantizer() {}

    public static float[] toFloats(GgufFile gguf, GgufTensor tensor) {
        long n = tensor.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(gguf.file() + ": tensor " + tensor.name() + " has " + n
                    + " elements, more than one Java array holds");
        }
        return toFloats(tensor.type(), gguf.data(tensor), (int) n);
    }

    static float[] toFloats(GgmlType type, MemorySegment in, int n) {
        float[] out = new float[n];
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = in.get(F32, 4L * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(in.get(F16, 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((in.get(F16, 2L * i) & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> q8_0(in, out);
            case Q4_0 -> q4_0(in, out);
            case Q4_1 -> q4_1(in, out);
            case Q4_K -> q4_k(in, out);
            case Q6_K -> q6_k(in, out);
        }
        return out;
    }

    private static float half(MemorySegment in, long at) {
        return Float.float16ToFloat(in.get(F16, at));
    }

    private static int u8(MemorySegment in, long at) {
        return in.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    private static void q8_0(MemorySegment in, float[] out) {
        for (int b = 0; b < out.length / 32; b++) {
            long at = 34L * b;
            float d = half(in, at);
            for (int j = 0; j < 32; j++) {
                out[32 * b + j] = in.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
            }
        }
    }

    private static void q4_0(MemorySegment in, float[] out) {
        for (int b = 0; b < out.length / 32; b++) {
            long at = 18L * b;
            float d = half(in, at);
            for (int j = 0; j < 16; j++) {
                int q = u8(in, at + 2 + j);
                out[32 * b + j] = ((q & 0xF) - 8) * d;
                out[32 * b + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    private static void q4_1(MemorySegment in, float[] out) {
        for (int b = 0; b < out.length / 32; b++) {
            long at = 20L * b;
            float d = half(in, at);
            float m = half(in, at + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(in, at + 4 + j);
                out[32 * b + j] = (q & 0xF) * d + m;
                out[32 * b + j + 16] = (q >> 4) * d + m;
            }
        }
    }

    private static void q4_k(MemorySegment in, float[] out) {
        int[] scale = new int[8];
        int[] min = new int[8];
        for (int b = 0; b < out.length / 256; b++) {
            long at = 144L * b;
            float d = half(in, at);
            float dmin = half(in, at + 2);
            long scales = at + 4;
            for (int j = 0; j < 8; j++) {
                if (j < 4) {
                    scale[j] = u8(in, scales + j) & 63;
                    min[j] = u8(in, scales + j + 4) & 63;
                } else {
                    scale[j] = (u8(in, scales + j + 4) & 0xF) | ((u8(in, scales + j - 4) >> 6) << 4);
                    min[j] = (u8(in, scales + j + 4) >> 4) | ((u8(in, scales + j) >> 6) << 4);
                }
            }
            long qs = at + 16;
            int y = 256 * b;
            for (int chunk = 0; chunk < 4; chunk++) {
                float d1 = d * scale[2 * chunk];
                float m1 = dmin * min[2 * chunk];
                float d2 = d * scale[2 * chunk + 1];
                float m2 = dmin * min[2 * chunk + 1];
                for (int l = 0; l < 32; l++) {
                    int q = u8(in, qs + 32L * chunk + l);
                    out[y + 64 * chunk + l] = d1 * (q & 0xF) - m1;
                    out[y + 64 * chunk + 32 + l] = d2 * (q >> 4) - m2;
                }
            }
        }
    }

    private static void q6_k(MemorySegment in, float[] out) {
        for (int b = 0; b < out.length / 256; b++) {
            long at = 210L * b;
            float d = half(in, at + 208);
            for (int half = 0; half < 2; half++) {
                long ql = at + 64L * half;
                long qh = at + 128 + 32L * half;
                long sc = at + 192 + 8L * half;
                int y = 256 * b + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = u8(in, qh + l);
                    int q1 = ((u8(in, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((u8(in, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((u8(in, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((u8(in, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    out[y + l] = d * in.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                    out[y + l + 32] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                    out[y + l + 64] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                    out[y + l + 96] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
                }
            }
        }
    }
}
