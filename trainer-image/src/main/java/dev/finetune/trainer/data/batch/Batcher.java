package dev.finetune.trainer.data.batch;

import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.preference.PairBatches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Cuts samples into micro-batches for one data-parallel rank.
 *
 * <p>Rows are single samples, or, with packing, several samples packed best-fit-decreasing into
 * {@code maxSeqLength} (computed once; documents keep their own positions and segment ids). Each epoch
 * the rows are shuffled with {@code Random(seed, epoch)}; with {@code groupByLength} they are first put in
 * random mega-batches of {@code 50 × batchSize × worldSize} rows, sorted by length within each, so a batch holds
 * rows of similar length (and ranks stepping together get similar lengths), then the batch order is shuffled.
 * The global batch list is dealt round-robin: rank r gets batches r, r+W, r+2W, ... For training every rank
 * gets the same number of batches (the last ones wrap around to the start, as PyTorch's DistributedSampler
 * pads); for evaluation nothing is repeated, so exact token-weighted loss sums over ranks stay exact.
 */
public final class Batcher {

    /**
     * @param batchSize    rows per micro-batch
     * @param padId        the model's pad id
     * @param maxSeqLength row capacity when packing
     * @param packing      pack several samples per row
     * @param groupByLength batch rows of similar length together
     * @param seed         shuffling seed (training.seed)
     * @param rank         this process's data-parallel rank, 0-based
     * @param worldSize    number of data-parallel ranks
     */
    public record Options(int batchSize, int padId, int maxSeqLength, boolean packing, boolean groupByLength, long seed,
            int rank, int worldSize) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1");
            }
            if (worldSize < 1 || rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("rank " + rank + " is not within worldSize " + worldSize);
            }
        }

        public Options withPacking(boolean packed) {
            return new Options(batchSize, padId, maxSeqLength, packed, groupByLength, seed, rank, worldSize);
        }
    }

    private final List<TokenizedSample> samples;
    private final Options options;
    private final List<int[]> rows;
    private final int[] rowLengths;
    private final boolean pairs;

    public Batcher(List<TokenizedSample> samples, Options options) {
        this(samples, options, false);
    }

    /**
     * @param pairs true for the preference methods: every micro-batch is a {@link PairBatches pair batch} of
     *              {@code batchSize} pairs (2 x batchSize rows), never packed
     */
    public Batcher(List<TokenizedSample> samples, Options options, boolean pairs) {
        if (pairs && options.packing()) {
            throw new IllegalArgumentException("preference pairs are never packed: remove dataset.packing or set it to false");
        }
        this.pairs = pairs;
        this.samples = List.copyOf(samples);
        this.options = options;
        int[] lengths = this.samples.stream().mapToInt(TokenizedSample::length).toArray();
        this.rows = new ArrayList<>();
        if (options.packing()) {
            for (List<Integer> row : Packer.pack(lengths, options.maxSeqLength())) {
                rows.add(row.stream().mapToInt(Integer::intValue).toArray());
            }
        } else {
            for (int k = 0; k < lengths.length; k++) {
                rows.add(new int[] {k});
            }
        }
        this.rowLengths = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            for (int s : rows.get(r)) {
                rowLengths[r] += lengths[s];
            }
        }
    }

    /** Number of rows (samples, or packed rows). */
    public int rowCount() {
        return rows.size();
    }

    /** Sample indices in each row, in row order before shuffling. */
    public List<int[]> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** Micro-batches this rank runs per training epoch (identical on every rank). */
    public int stepsPerEpoch() {
        int global = (rows.size() + options.batchSize() - 1) / options.batchSize();
        return (global + options.worldSize() - 1) / options.worldSize();
    }

    /**
     * What one training epoch computes over all ranks, padding included: the token positions (each batch's rows
     * times its longest row) and the attention scores per layer and head (rows times that width squared),
     * counted on epoch 0's batches (the batches repeated to give every rank the same number are not counted).
     */
    public EpochWork workPerEpoch() {
        long positions = 0;
        long scores = 0;
        for (List<Integer> batch : globalBatches(shuffledRows(0), new Random(mix(options.seed(), 0, 2)))) {
            long width = 0;
            for (int r : batch) {
                width = Math.max(width, rowLengths[r]);
            }
            positions += batch.size() * width;
            scores += batch.size() * width * width;
        }
        return new EpochWork(positions, scores);
    }

    /** See {@link #workPerEpoch()}. */
    public record EpochWork(long tokenPositions, long attentionScores) {
    }

    /** This rank's training micro-batches for {@code epoch} (0-based), shuffled deterministically. */
    public List<Batch> trainEpoch(int epoch) {
        List<List<Integer>> global = globalBatches(shuffledRows(epoch), new Random(mix(options.seed(), epoch, 2)));
        List<Batch> mine = new ArrayList<>();
        if (global.isEmpty()) {
            return mine;
        }
        int steps = stepsPerEpoch();
        for (int s = 0; s < steps; s++) {
            mine.add(assemble(global.get((s * options.worldSize() + options.rank()) % global.size())));
        }
        return mine;
    }

    /** This rank's eval micro-batches: in order, no repeats (ranks may get one batch fewer). */
    public List<Batch> evalBatches() {
        List<Integer> order = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            order.add(r);
        }
        List<Batch> mine = new ArrayList<>();
        List<List<Integer>> global = chunk(order);
        for (int b = options.rank(); b < global.size(); b += options.worldSize()) {
            mine.add(assemble(global.get(b)));
        }
        return mine;
    }

    private List<Integer> shuffledRows(int epoch) {
        List<Integer> order = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            order.add(r);
        }
        Collections.shuffle(order, new Random(mix(options.seed(), epoch, 1)));
        if (!options.groupByLength()) {
            return order;
        }
        int mega = 50 * options.batchSize() * options.worldSize();
        List<Integer> grouped = new ArrayList<>(order.size());
        for (int from = 0; from < order.size(); from += mega) {
            List<Integer> part = new ArrayList<>(order.subList(from, Math.min(order.size(), from + mega)));
            part.sort(Comparator.<Integer>comparingInt(r -> -rowLengths[r]));
            grouped.addAll(part);
        }
        return grouped;
    }

    private List<List<Integer>> globalBatches(List<Integer> order, Random random) {
        List<List<Integer>> batches = chunk(order);
        if (options.groupByLength()) {
            // keep the ranks of one step together (similar lengths), shuffle the steps
            List<List<List<Integer>>> steps = new ArrayList<>();
            for (int b = 0; b < batches.size(); b += options.worldSize()) {
                steps.add(batches.subList(b, Math.min(batches.size(), b + options.worldSize())));
            }
            Collections.shuffle(steps, random);
            List<List<Integer>> out = new ArrayList<>();
            steps.forEach(out::addAll);
            return out;
        }
        return batches;
    }

    private List<List<Integer>> chunk(List<Integer> order) {
        List<List<Integer>> out = new ArrayList<>();
        for (int from = 0; from < order.size(); from += options.batchSize()) {
            out.add(order.subList(from, Math.min(order.size(), from + options.batchSize())));
        }
        return out;
    }

    private static long mix(long seed, int epoch, int salt) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + salt;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Builds the padded arrays of one batch from row indices (padding: pad id, ignored label, position 0, segment 0). */
    Batch assemble(List<Integer> rowIndices) {
        if (pairs) {
            return PairBatches.of(rowIndices.stream().map(r -> samples.get(rows.get(r)[0])).toList(), options.padId());
        }
        int n = rowIndices.size();
        int width = 0;
        for (int r : rowIndices) {
            width = Math.max(width, rowLengths[r]);
        }
        int[] ids = new int[n * width];
        int[] labels = new int[n * width];
        int[] pos = new int[n * width];
        int[] seg = new int[n * width];
        Arrays.fill(ids, options.padId());
        Arrays.fill(labels, Labels.IGNORE);
        for (int i = 0; i < n; i++) {
            int at = i * width;
            int segment = 0;
            for (int s : rows.get(rowIndices.get(i))) {
                TokenizedSample sample = samples.get(s);
                segment++;
                int len = sample.length();
                System.arraycopy(sample.inputIds(), 0, ids, at, len);
                System.arraycopy(sample.labels(), 0, labels, at, len);
                // the first token of a document is never predicted from the previous document
                labels[at] = Labels.IGNORE;
                for (int k = 0; k < len; k++) {
                    pos[at + k] = k;
                    seg[at + k] = segment;
                }
                at += len;
            }
        }
        return new Batch(n, width, ids, labels, pos, seg);
    }
}
