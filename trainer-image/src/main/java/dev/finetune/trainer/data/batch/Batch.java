package dev.finetune.trainer.data.batch;

/**
 * One micro-batch, right-padded to its longest row. All arrays are {@code [rows][width]}.
 *
 * <ul>
 *   <li>{@code inputIds}: token ids; padding is the model's pad id.</li>
 *   <li>{@code labels}: the id where the token is learned, -100 elsewhere (prompt, template scaffolding, padding,
 *       and the first token of every document, which nothing before it predicts). Aligned with inputIds: the loss at position i compares the
 *       logits of position i-1 with labels[i] (shift by one, as HF's causal-LM loss does).</li>
 *   <li>{@code positionIds}: 0,1,2,... restarting at every packed document; 0 on padding.</li>
 *   <li>{@code segmentIds}: 1,2,3,... one per document within the row; 0 on padding. Attention is allowed from
 *       position i to j only when {@code j <= i && segmentIds[r][i] == segmentIds[r][j] && segmentIds[r][i] != 0}:
 *       a block-diagonal causal mask. Without packing every row is one segment, so it reduces to causal + padding.</li>
 *   <li>{@code lengths}: non-padding tokens per row.</li>
 *   <li>{@code labelTokens}: learned tokens in the batch (normalise the loss by the sum over accumulated micro-batches
 *       and ranks, not by rows).</li>
 *   <li>{@code documents}: samples in the batch (more than rows when packed).</li>
 * </ul>
 */
public record Batch(int[][] inputIds, int[][] labels, int[][] positionIds, int[][] segmentIds, int[] lengths,
        int labelTokens, int documents) {

    public int rows() {
        return inputIds.length;
    }

    public int width() {
        return inputIds.length == 0 ? 0 : inputIds[0].length;
    }

    /**
     * The attention rule of row {@code row} as a matrix: {@code mask[i][j]} is true when position i may attend
     * to position j (causal, same document, not padding). A convenience for building the model's attention
     * bias; the trainer may equally compute it from {@link #segmentIds()} on the device.
     */
    public boolean[][] blockCausalMask(int row) {
        int w = width();
        int[] seg = segmentIds[row];
        boolean[][] mask = new boolean[w][w];
        for (int i = 0; i < w; i++) {
            if (seg[i] == 0) {
                continue;
            }
            for (int j = i; j >= 0 && seg[j] == seg[i]; j--) {
                mask[i][j] = true;
            }
        }
        return mask;
    }

    /** Non-padding tokens in the batch. */
    public int tokens() {
        int n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }
}
