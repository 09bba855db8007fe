package dev.finetune.trainer.train;

import java.util.List;

/** A plain {@link Batch}. */
public record TokenBatch(int rows, int length, long[] inputIds, long[] labels, long[] positionIds, long[] segmentIds)
        implements Batch {

    public TokenBatch {
        int n = rows * length;
        if (inputIds.length != n || labels.length != n || positionIds.length != n
                || (segmentIds != null && segmentIds.length != n)) {
            throw new IllegalArgumentException("batch arrays must all hold rows x length = " + n + " values");
        }
    }

    /**
     * Right-pads sequences to the longest one. Padded input positions get {@code padId} and label -100;
     * {@code labels.get(i)} must be as long as {@code ids.get(i)}.
     */
    public static TokenBatch padded(List<long[]> ids, List<long[]> labels, long padId) {
        int rows = ids.size();
        int length = 0;
        for (long[] row : ids) {
            length = Math.max(length, row.length);
        }
        long[] in = new long[rows * length];
        long[] lab = new long[rows * length];
        long[] pos = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            long[] row = ids.get(r);
            long[] rowLabels = labels.get(r);
            if (rowLabels.length != row.length) {
                throw new IllegalArgumentException("row " + r + ": " + row.length + " ids but " + rowLabels.length + " labels");
            }
            for (int t = 0; t < length; t++) {
                int i = r * length + t;
                in[i] = t < row.length ? row[t] : padId;
                lab[i] = t < row.length ? rowLabels[t] : IGNORE;
                pos[i] = t;
            }
        }
        return new TokenBatch(rows, length, in, lab, pos, null);
    }
}
