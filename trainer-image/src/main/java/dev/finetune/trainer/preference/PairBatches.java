package dev.finetune.trainer.preference;

import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.label.Labels;
import java.util.List;

/**
 * Preference pairs as one micro-batch, so chosen and rejected go through the model in a single forward:
 * rows {@code 0..n-1} are the chosen replies, rows {@code n..2n-1} the rejected ones in the same order,
 * each right-padded to the longest row, never packed (a pair's log-probabilities are per sequence).
 */
public final class PairBatches {

    private PairBatches() {
    }

    /** The batch of {@code pairs}; every sample must carry its rejected reply. */
    public static Batch of(List<TokenizedSample> pairs, int padId) {
        int n = pairs.size();
        if (n == 0) {
            throw new IllegalArgumentException("a pair batch needs at least one pair");
        }
        int length = 0;
        for (TokenizedSample s : pairs) {
            if (s.rejectedIds() == null) {
                throw new IllegalArgumentException("sample " + s.source() + " has no rejected reply");
            }
            length = Math.max(length, Math.max(s.inputIds().length, s.rejectedIds().length));
        }
        int rows = 2 * n;
        int[] ids = new int[rows * length];
        int[] labels = new int[rows * length];
        int[] positions = new int[rows * length];
        int[] segments = new int[rows * length];
        for (int r = 0; r < rows; r++) {
            TokenizedSample s = pairs.get(r % n);
            int[] rowIds = r < n ? s.inputIds() : s.rejectedIds();
            int[] rowLabels = r < n ? s.labels() : s.rejectedLabels();
            for (int t = 0; t < length; t++) {
                int i = r * length + t;
                boolean real = t < rowIds.length;
                ids[i] = real ? rowIds[t] : padId;
                labels[i] = real ? rowLabels[t] : Labels.IGNORE;
                positions[i] = t;
                segments[i] = real ? 1 : 0;
            }
        }
        return new Batch(rows, length, ids, labels, positions, segments);
    }
}
