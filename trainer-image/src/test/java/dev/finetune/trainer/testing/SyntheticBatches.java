package dev.finetune.trainer.testing;

import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.data.label.Labels;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Learnable token sequences for tests: each example is a "prompt" of random tokens followed by an
 * arithmetic continuation (t, t+step, t+2 step ... mod vocab) that the labels cover. Examples are
 * shuffled per epoch with {@code seed + epoch}, rows right-padded with varying lengths.
 */
public final class SyntheticBatches implements BatchSource {

    private final List<int[]> ids = new ArrayList<>();
    private final List<int[]> labels = new ArrayList<>();
    private final int batchSize;
    private final long seed;

    public SyntheticBatches(int examples, int batchSize, int vocab, long seed) {
        this.batchSize = batchSize;
        this.seed = seed;
        Random r = new Random(seed);
        for (int e = 0; e < examples; e++) {
            int promptLen = 2 + r.nextInt(3);
            int answerLen = 4 + r.nextInt(4);
            int[] row = new int[promptLen + answerLen];
            int[] lab = new int[row.length];
            for (int i = 0; i < promptLen; i++) {
                row[i] = 3 + r.nextInt(vocab - 3);
                lab[i] = Labels.IGNORE;
            }
            int start = row[promptLen - 1];
            for (int i = promptLen; i < row.length; i++) {
                row[i] = (int) ((start + 3L * (i - promptLen + 1)) % vocab);
                lab[i] = row[i];
            }
            ids.add(row);
            labels.add(lab);
        }
    }

    public int examples() {
        return ids.size();
    }

    @Override
    public int batchesPerEpoch(int epoch) {
        return (ids.size() + batchSize - 1) / batchSize;
    }

    @Override
    public Batch batch(int epoch, int index) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed * 31 + epoch));
        List<int[]> bIds = new ArrayList<>();
        List<int[]> bLabels = new ArrayList<>();
        for (int i = index * batchSize; i < Math.min(ids.size(), (index + 1) * batchSize); i++) {
            bIds.add(ids.get(order.get(i)));
            bLabels.add(labels.get(order.get(i)));
        }
        return Batches.padded(bIds, bLabels, 0);
    }

    /** All examples in fixed order, {@code batchSize} per batch (eval sets). */
    public List<Batch> inOrder() {
        List<Batch> out = new ArrayList<>();
        for (int start = 0; start < ids.size(); start += batchSize) {
            int end = Math.min(ids.size(), start + batchSize);
            out.add(Batches.padded(ids.subList(start, end), labels.subList(start, end), 0));
        }
        return out;
    }
}
