package dev.finetune.trainer.parity;

/** Selecting the rows of [B, T, V] logits where an attention mask [B, T] is 1. */
final class Rows {

    private Rows() {}

    static float[] valid(float[] logits, long[] mask, int vocab) {
        int n = 0;
        for (long m : mask) {
            n += m == 1 ? 1 : 0;
        }
        float[] out = new float[n * vocab];
        int j = 0;
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] == 1) {
                System.arraycopy(logits, i * vocab, out, j * vocab, vocab);
                j++;
            }
        }
        return out;
    }
}
