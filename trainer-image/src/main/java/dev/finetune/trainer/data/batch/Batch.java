package dev.finetune.trainer.data.batch;

import dev.finetune.trainer.data.label.Labels;

/**
 * One micro-batch as the data layer builds it and the train loop consumes it: {@code rows x length} tokens,
 * row-major, rows right-padded to the longest.
 *
 * <ul>
 *   <li>{@code inputIds}: token ids; padding is the model's pad id.</li>
 *   <li>{@code labels}: aligned with inputIds (see {@link Labels}): the id where the token is learned,
 *       {@link Labels#IGNORE} elsewhere (prompt, template scaffolding, padding, and the first token of every
 *       document, which nothing before it predicts).</li>
 *   <li>{@code positionIds}: 0, 1, 2, ... restarting at every packed document.</li>
 *   <li>{@code segmentIds}: 1, 2, 3, ... one per document within the row; 0 on padding. Position i may attend
 *       to position j only when {@code j <= i} and both lie in the same non-zero segment: a block-diagonal
 *       causal mask, which reduces to plain causal attention when no row holds more than one document.</li>
 * </ul>
 */
public record Batch(int rows, int length, int[] inputIds, int[] labels, int[] positionIds, int[] segmentIds) {

    public Batch {
        int n = rows * length;
        if (inputIds.length != n || labels.length != n || positionIds.length != n || segmentIds.length != n) {
            throw new IllegalArgumentException("batch arrays must all hold rows x length = " + n + " values");
        }
    }

    /**
     * Whether some row holds more than one document. Only then does attention need the block mask: a row
     * holding one document followed by padding is served by causal attention (nothing looks right, and
     * padding carries no labels).
     */
    public boolean packed() {
        for (int s : segmentIds) {
            if (s > 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tokens the loss sees, the normaliser of the token-mean loss (summed over accumulated micro-batches and
     * ranks, never counted by rows).
     */
    public long labelTokens() {
        long n = 0;
        for (int r = 0; r < rows; r++) {
            n += Labels.learnedTokens(labels, r * length, (r + 1) * length);
        }
        return n;
    }

    /** Tokens that are not padding (throughput figures). */
    public long realTokens() {
        long n = 0;
        for (int s : segmentIds) {
            if (s != 0) {
                n++;
            }
        }
        return n;
    }
}
