package dev.finetune.trainer.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Blocks built by hand from ggml-common.h's layouts; expected values worked out from the formulas. */
class DequantizerTest {

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static float[] run(GgmlType type, ByteBuffer b, int n) {
        return Dequantizer.toFloats(type, MemorySegment.ofArray(b.array()), n);
    }

    @Test
    void halfAndBfloat16() {
        ByteBuffer f16 = le(4).putShort(Float.floatToFloat16(-2.5f)).putShort(Float.floatToFloat16(65504f));
        assertThat(run(GgmlType.F16, f16, 2)).containsExactly(-2.5f, 65504f);
        ByteBuffer bf16 = le(4).putShort((short) 0x3FC0).putShort((short) 0xC2F7);
        assertThat(run(GgmlType.BF16, bf16, 2)).containsExactly(1.5f, -123.5f);
    }

    @Test
    void q8_0IsScaleTimesSignedByte() {
        ByteBuffer b = le(68);
        for (int block = 0; block < 2; block++) {
            b.putShort(Float.floatToFloat16(block == 0 ? 0.25f : -0.5f));
            for (int j = 0; j < 32; j++) {
                b.put((byte) (j * 8 - 128));
            }
        }
        float[] x = run(GgmlType.Q8_0, b, 64);
        assertThat(x[0]).isEqualTo(-32f);
        assertThat(x[31]).isEqualTo(30f); // (31*8-128) * 0.25
        assertThat(x[32]).isEqualTo(64f);
        assertThat(x[63]).isEqualTo(-60f);
    }

    @Test
    void q4_0PutsLowNibblesFirstAndCentresOnEight() {
        ByteBuffer b = le(18).putShort(Float.floatToFloat16(0.5f));
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j | (15 - j) << 4));
        }
        float[] x = run(GgmlType.Q4_0, b, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(x[j]).isEqualTo((j - 8) * 0.5f);
            assertThat(x[j + 16]).isEqualTo((15 - j - 8) * 0.5f);
        }
    }

    @Test
    void q4_1AddsTheBlockMinimum() {
        ByteBuffer b = le(20).putShort(Float.floatToFloat16(0.125f)).putShort(Float.floatToFloat16(-1f));
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j | 3 << 4));
        }
        float[] x = run(GgmlType.Q4_1, b, 32);
        assertThat(x[0]).isEqualTo(-1f);
        assertThat(x[15]).isEqualTo(15 * 0.125f - 1f);
        assertThat(x[16]).isEqualTo(3 * 0.125f - 1f);
    }

    @Test
    void q4_kUnpacksSixBitScalesAndMins() {
        ByteBuffer b = le(144).putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(0.25f));
        // sub-blocks 0..3: scale = 1+j, min = 2j in the low 6 bits; sub-blocks 4..7: scale 40+j, min 50+j split
        // into a low nibble (bytes 8..11) and two high bits (the top bits of bytes 0..3 and 4..7)
        byte[] scales = new byte[12];
        for (int j = 0; j < 4; j++) {
            int s4 = 40 + j;
            int m4 = 50 + j;
            scales[j] = (byte) ((1 + j) | (s4 >> 4) << 6);
            scales[j + 4] = (byte) ((2 * j) | (m4 >> 4) << 6);
            scales[j + 8] = (byte) ((s4 & 0xF) | (m4 & 0xF) << 4);
        }
        b.put(scales);
        for (int l = 0; l < 128; l++) {
            b.put((byte) (l % 16 | (15 - l % 16) << 4));
        }
        float[] x = run(GgmlType.Q4_K, b, 256);
        int[] scale = {1, 2, 3, 4, 40, 41, 42, 43};
        int[] min = {0, 2, 4, 6, 50, 51, 52, 53};
        for (int i = 0; i < 256; i++) {
            int sub = i / 32;
            int l = i % 32;
            int q = sub % 2 == 0 ? l % 16 : 15 - l % 16;
            assertThat(x[i]).as("element %d", i).isEqualTo(0.5f * scale[sub] * q - 0.25f * min[sub]);
        }
    }

    @Test
    void q6_kCombinesLowNibblesAndHighBitPairs() {
        ByteBuffer b = le(210);
        for (int l = 0; l < 128; l++) {
            b.put((byte) ((l & 0xF) | ((l + 5) & 0xF) << 4));
        }
        for (int l = 0; l < 64; l++) {
            b.put((byte) (l & 0xFF));
        }
        for (int s = 0; s < 16; s++) {
            b.put((byte) (s - 8));
        }
        b.putShort(Float.floatToFloat16(0.5f));
        float[] x = run(GgmlType.Q6_K, b, 256);
        for (int i = 0; i < 256; i++) {
            int half = i / 128;
            int r = i % 128;
            int quarter = r / 32;
            int l = r % 32;
            int low = (quarter % 2 == 0 ? l : l + 32) + 64 * half;
            int lowByte = (low & 0xF) | ((low + 5) & 0xF) << 4;
            int nibble = quarter < 2 ? lowByte & 0xF : lowByte >> 4;
            int high = ((32 * half + l) >> (2 * quarter)) & 3;
            int q = (nibble | high << 4) - 32;
            int sc = 8 * half + l / 16 + 2 * quarter - 8;
            assertThat(x[i]).as("element %d", i).isEqualTo(0.5f * sc * q);
        }
    }
}
