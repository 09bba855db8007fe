package dev.finetune.trainer.data.batch;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.Rows;
import dev.finetune.trainer.train.BatchTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatcherTest {

    static final int PAD = 0;
    static final int I = Labels.IGNORE;

    /** A sample whose ids encode (sample number, position) so a batch can be traced back. */
    static TokenizedSample sample(int number, int length, int promptLength) {
        int[] ids = new int[length];
        int[] labels = new int[length];
        for (int k = 0; k < length; k++) {
            ids[k] = number * 1000 + k + 1;
            labels[k] = k < promptLength ? I : ids[k];
        }
        return new TokenizedSample(ids, labels, new SourceLocation("t.jsonl", number + 1, 0, number), length, Map.of(),
                null, null);
    }

    static List<TokenizedSample> samples(int n, long seed, int maxLen) {
        Random r = new Random(seed);
        List<TokenizedSample> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int len = 2 + r.nextInt(maxLen - 1);
            out.add(sample(k, len, r.nextInt(len)));
        }
        return out;
    }

    static Batcher.Options options(int batchSize, boolean packing, boolean group, int rank, int world) {
        return new Batcher.Options(batchSize, PAD, 64, packing, group, 42, rank, world);
    }

    @Test
    void padsToTheLongestRowWithPadIdAndIgnoredLabels() {
        Batcher b = new Batcher(List.of(sample(0, 3, 1), sample(1, 5, 2)), options(2, false, false, 0, 1));
        Batch batch = b.evalBatches().getFirst();
        assertThat(batch.length()).isEqualTo(5);
        assertThat(Rows.ids(batch, 0)).containsExactly(1, 2, 3, PAD, PAD);
        assertThat(Rows.labels(batch, 0)).containsExactly(I, 2, 3, I, I);
        assertThat(Rows.positions(batch, 0)).containsExactly(0, 1, 2, 0, 0);
        assertThat(Rows.segments(batch, 0)).containsExactly(1, 1, 1, 0, 0);
        assertThat(Rows.lengths(batch)).containsExactly(3, 5);
        assertThat(batch.labelTokens()).isEqualTo(2 + 3);
        assertThat(batch.realTokens()).isEqualTo(3 + 5);
        assertThat(batch.packed()).as("one document per row needs no block mask").isFalse();
    }

    @Test
    void packingKeepsDocumentsApartAndRestartsPositions() {
        List<TokenizedSample> s = samples(200, 7, 40);
        Batcher b = new Batcher(s, options(4, true, false, 0, 1));
        Set<Integer> seenDocs = new HashSet<>();
        int docs = 0;
        for (Batch batch : b.trainEpoch(0)) {
            docs += Rows.documents(batch);
            for (int r = 0; r < batch.rows(); r++) {
                int[] ids = Rows.ids(batch, r);
                int[] labels = Rows.labels(batch, r);
                int[] positions = Rows.positions(batch, r);
                int[] segments = Rows.segments(batch, r);
                int length = Rows.length(batch, r);
                assertThat(length).isLessThanOrEqualTo(64);
                int k = 0;
                while (k < length) {
                    int seg = segments[k];
                    int doc = ids[k] / 1000;
                    assertThat(seenDocs.add(doc)).as("document %d packed once", doc).isTrue();
                    TokenizedSample orig = s.get(doc);
                    for (int p = 0; p < orig.length(); p++, k++) {
                        // one document = one segment, positions from 0, ids and labels intact
                        assertThat(segments[k]).isEqualTo(seg);
                        assertThat(positions[k]).isEqualTo(p);
                        assertThat(ids[k]).isEqualTo(orig.inputIds()[p]);
                        int expectedLabel = p == 0 ? I : orig.labels()[p];
                        assertThat(labels[k]).isEqualTo(expectedLabel);
                    }
                    if (k < length) {
                        assertThat(segments[k]).isEqualTo(seg + 1);
                    }
                }
                for (int p = length; p < batch.length(); p++) {
                    assertThat(segments[p]).isZero();
                    assertThat(labels[p]).isEqualTo(I);
                }
            }
        }
        assertThat(docs).isEqualTo(200);
        assertThat(seenDocs).hasSize(200);
        assertThat(b.rowCount()).isLessThan(200);
    }

    @Test
    void blockCausalMaskAllowsOnlyEarlierPositionsOfTheSameDocument() {
        Batcher b = new Batcher(List.of(sample(0, 3, 0), sample(1, 2, 0)), new Batcher.Options(1, PAD, 8, true, false, 1, 0, 1));
        Batch batch = b.evalBatches().getFirst();
        assertThat(Rows.segments(batch, 0)).containsExactly(1, 1, 1, 2, 2);
        assertThat(batch.packed()).isTrue();
        boolean[][] m = new boolean[5][];
        try (NDManager scope = Engine.manager().newSubManager()) {
            // the mask the model attends with, [rows, 1, length, length]
            boolean[] mask = BatchTensors.of(scope, batch).mask().toBooleanArray();
            for (int i = 0; i < 5; i++) {
                m[i] = Arrays.copyOfRange(mask, i * 5, (i + 1) * 5);
            }
        }
        assertThat(m[2]).containsExactly(true, true, true, false, false);
        assertThat(m[3]).containsExactly(false, false, false, true, false);
        assertThat(m[4]).containsExactly(false, false, false, true, true);
        assertThat(m[0]).containsExactly(true, false, false, false, false);
    }

    @Test
    void bestFitDecreasingFillsRowsTightly() {
        List<List<Integer>> rows = Packer.pack(new int[] {60, 30, 30, 10, 4, 50, 14}, 64);
        assertThat(rows).containsExactly(List.of(0, 4), List.of(5, 6), List.of(1, 2), List.of(3));
    }

    @Test
    void shufflingIsDeterministicBySeedAndDiffersByEpoch() {
        List<TokenizedSample> s = samples(50, 1, 20);
        List<Integer> e0 = firstIds(new Batcher(s, options(4, false, false, 0, 1)).trainEpoch(0));
        List<Integer> e0again = firstIds(new Batcher(s, options(4, false, false, 0, 1)).trainEpoch(0));
        List<Integer> e1 = firstIds(new Batcher(s, options(4, false, false, 0, 1)).trainEpoch(1));
        assertThat(e0).isEqualTo(e0again);
        assertThat(e0).isNotEqualTo(e1);
        assertThat(new HashSet<>(e0)).isEqualTo(new HashSet<>(e1));
    }

    @Test
    void ranksGetDisjointBatchesCoveringEverythingAndTheSameStepCount() {
        List<TokenizedSample> s = samples(45, 3, 20);
        int world = 4;
        Set<Integer> all = new HashSet<>();
        int steps = -1;
        for (int rank = 0; rank < world; rank++) {
            Batcher b = new Batcher(s, options(4, false, false, rank, world));
            List<Batch> mine = b.trainEpoch(0);
            steps = steps < 0 ? mine.size() : steps;
            assertThat(mine).hasSize(steps);
            all.addAll(firstIds(mine));
        }
        assertThat(all).hasSize(45);
        assertThat(steps).isEqualTo(3); // 12 global batches of 4 (last has 1) → 3 per rank
        // eval: no sample twice across ranks
        List<Integer> evalIds = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            evalIds.addAll(firstIds(new Batcher(s, options(4, false, false, rank, world)).evalBatches()));
        }
        assertThat(evalIds).hasSize(45).doesNotHaveDuplicates();
    }

    @Test
    void lengthGroupingPutsSimilarLengthsTogether() {
        List<TokenizedSample> s = samples(400, 5, 60);
        double grouped = meanSpread(new Batcher(s, options(8, false, true, 0, 1)).trainEpoch(0));
        double random = meanSpread(new Batcher(s, options(8, false, false, 0, 1)).trainEpoch(0));
        assertThat(grouped).isLessThan(random / 4);
    }

    static double meanSpread(List<Batch> batches) {
        return batches.stream().mapToInt(b -> Arrays.stream(Rows.lengths(b)).max().orElse(0)
                - Arrays.stream(Rows.lengths(b)).min().orElse(0)).average().orElse(0);
    }

    static List<Integer> firstIds(List<Batch> batches) {
        List<Integer> ids = new ArrayList<>();
        for (Batch b : batches) {
            for (int r = 0; r < b.rows(); r++) {
                ids.add(Rows.ids(b, r)[0] / 1000);
            }
        }
        return ids;
    }
}
