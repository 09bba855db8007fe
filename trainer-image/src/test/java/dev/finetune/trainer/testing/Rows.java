package dev.finetune.trainer.testing;

import dev.finetune.trainer.data.batch.Batch;
import java.util.Arrays;

/** Row views of a {@link Batch} for assertions. */
public final class Rows {

    private Rows() {}

    public static int[] ids(Batch b, int row) {
        return row(b, b.inputIds(), row);
    }

    public static int[] labels(Batch b, int row) {
        return row(b, b.labels(), row);
    }

    public static int[] positions(Batch b, int row) {
        return row(b, b.positionIds(), row);
    }

    public static int[] segments(Batch b, int row) {
        return row(b, b.segmentIds(), row);
    }

    /** Non-padding tokens of the row (padding is segment 0). */
    public static int length(Batch b, int row) {
        return (int) Arrays.stream(segments(b, row)).filter(s -> s != 0).count();
    }

    /** Non-padding tokens of each row. */
    public static int[] lengths(Batch b) {
        int[] out = new int[b.rows()];
        for (int r = 0; r < b.rows(); r++) {
            out[r] = length(b, r);
        }
        return out;
    }

    /** Documents (samples) in the batch: the segments of every row. */
    public static int documents(Batch b) {
        int n = 0;
        for (int r = 0; r < b.rows(); r++) {
            n += Arrays.stream(segments(b, r)).max().orElse(0);
        }
        return n;
    }

    private static int[] row(Batch b, int[] values, int row) {
        return Arrays.copyOfRange(values, row * b.length(), (row + 1) * b.length());
    }
}
