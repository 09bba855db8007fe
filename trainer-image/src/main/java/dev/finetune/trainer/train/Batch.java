package dev.finetune.trainer.train;

/**
 * One micro-batch as the train loop consumes it: {@code rows x length} token ids, row-major.
 *
 * <p>Labels follow HF's convention: aligned with the inputs (the loss shifts them: position t
 * predicts {@code labels[t + 1]}), {@code -100} where nothing is learned (prompt, padding, the first
 * token of each packed sequence). Rows are right-padded. Packed rows carry per-token segment ids
 * (1, 2, ... per sequence; 0 for padding) and positions restarting at 0 per sequence; unpacked
 * batches return null segments and positions 0..length-1.
 */
public interface Batch {

    int IGNORE = -100;

    int rows();

    int length();

    long[] inputIds();

    long[] labels();

    long[] positionIds();

    /** null when rows are not packed. */
    long[] segmentIds();

    /** Number of predicted tokens: positions t < length - 1 of each row with {@code labels[t + 1] != -100}. */
    default long labelTokens() {
        long[] labels = labels();
        int len = length();
        long n = 0;
        for (int r = 0; r < rows(); r++) {
            for (int t = 1; t < len; t++) {
                if (labels[r * len + t] != IGNORE) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Tokens that are not padding (for throughput figures). */
    default long realTokens() {
        long[] seg = segmentIds();
        if (seg == null) {
            return (long) rows() * length();
        }
        long n = 0;
        for (long s : seg) {
            if (s != 0) {
                n++;
            }
        }
        return n;
    }
}
