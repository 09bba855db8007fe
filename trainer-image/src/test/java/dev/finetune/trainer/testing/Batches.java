package dev.finetune.trainer.testing;

import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.label.Labels;
import java.util.Arrays;
import java.util.List;

/** Batches built by hand for tests of the loop, the loss and the parity goldens. */
public final class Batches {

    private Batches() {}

    /**
     * One sequence per row, right-padded to the longest: padded positions get {@code padId}, label -100 and
     * segment 0; positions count 0..length-1 along the whole row. {@code labels.get(i)} must be as long as
     * {@code ids.get(i)}.
     */
    public static Batch padded(List<int[]> ids, List<int[]> labels, int padId) {
        int rows = ids.size();
        int length = ids.stream().mapToInt(row -> row.length).max().orElse(0);
        int[] in = new int[rows * length];
        int[] lab = new int[rows * length];
        int[] pos = new int[rows * length];
        int[] seg = new int[rows * length];
        for (int r = 0; r < rows; r++) {
            int[] row = ids.get(r);
            int[] rowLabels = labels.get(r);
            if (rowLabels.length != row.length) {
                throw new IllegalArgumentException("row " + r + ": " + row.length + " ids but " + rowLabels.length + " labels");
            }
            for (int t = 0; t < length; t++) {
                int i = r * length + t;
                in[i] = t < row.length ? row[t] : padId;
                lab[i] = t < row.length ? rowLabels[t] : Labels.IGNORE;
                pos[i] = t;
                seg[i] = t < row.length ? 1 : 0;
            }
        }
        return new Batch(rows, length, in, lab, pos, seg);
    }

    /** Rows that are each one whole sequence (no padding), as the parity goldens hand them over. */
    public static Batch fullRows(int rows, int length, long[] ids, long[] labels, long[] positions) {
        int[] segments = new int[rows * length];
        Arrays.fill(segments, 1);
        return new Batch(rows, length, ints(ids), ints(labels), ints(positions), segments);
    }

    public static int[] ints(long[] values) {
        return Arrays.stream(values).mapToInt(Math::toIntExact).toArray();
    }
}
