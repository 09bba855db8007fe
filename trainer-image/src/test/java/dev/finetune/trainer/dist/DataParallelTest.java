package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import dev.finetune.trainer.train.TrainingState;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataParallelTest {

    @TempDir
    Path tmp;

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void allReduceGivesEveryRankTheSameRankOrderedSum() throws Exception {
        int port = freePort();
        int world = 3;
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<double[]>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (TcpCollective c = TcpCollective.connect(rank, world, "127.0.0.1", port, Duration.ofSeconds(20))) {
                        double[] first = c.allReduceSum(new double[] {rank + 1, 0.1 * rank});
                        float[] second = c.allReduceSum(new float[] {rank});
                        return new double[] {first[0], first[1], second[0]};
                    }
                }));
            }
            for (Future<double[]> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).containsExactly(6.0, 0.1 + 0.2, 3.0);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Rank r of a world of 2 sees micro-batches r, r + 2, r + 4, ... of the full source. */
    record Shard(BatchSource full, int rank, int world) implements BatchSource {
        @Override
        public int batchesPerEpoch(int epoch) {
            return full.batchesPerEpoch(epoch) / world;
        }

        @Override
        public Batch batch(int epoch, int index) {
            return full.batch(epoch, index * world + rank);
        }
    }

    static TrainingSettings settings(int accumulation) {
        return settings(accumulation, 0);
    }

    static TrainingSettings settings(int accumulation, int logEverySteps) {
        return new TrainingSettings(2, 1e-2, Scheduler.COSINE, 1, null, accumulation, 1.0, 0.01, false, 5, logEverySteps,
                0, 0, 0, 0);
    }

    static Map<String, float[]> weights(LoraModel lora) {
        Map<String, float[]> out = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    /** What one process ended with. */
    record RankRun(Map<String, float[]> weights, TrainingState end, long optimizerSteps) {}

    /** One process training on all of {@code full}, accumulating two micro-batches per step. */
    static RankRun trainAlone(Path dir, DataType dtype, LoraSettings lora, BatchSource full, List<Batch> eval,
            Trainer.Options options) {
        try (NDManager m = NDManager.newBaseManager();
                Kernels k = Kernels.load(m);
                DecoderModel model = DecoderModel.load(dir, dtype, m, k);
                LoraModel l = LoraModel.attach(model, lora, 1)) {
            Trainer t = new Trainer(l, settings(2), full, eval, List.of(), options);
            TrainingState end = t.run();
            return new RankRun(weights(l), end, t.optimizer().stepCount());
        }
    }

    /**
     * Ranks 0 and 1 of a TCP gang, one micro-batch per step each, on their shards of {@code full}; each rank
     * evaluates every other eval batch and the loss is reduced over both.
     */
    static List<RankRun> trainTwoRanks(Path dir, DataType dtype, LoraSettings lora, BatchSource full, List<Batch> eval,
            Trainer.Options options) throws Exception {
        return trainTwoRanks(dir, dtype, lora, full, eval, options, settings(1));
    }

    static List<RankRun> trainTwoRanks(Path dir, DataType dtype, LoraSettings lora, BatchSource full, List<Batch> eval,
            Trainer.Options options, TrainingSettings settings) throws Exception {
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<RankRun>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                ranks.add(pool.submit(() -> {
                    try (NDManager m = NDManager.newBaseManager();
                            Kernels k = Kernels.load(m);
                            DecoderModel model = DecoderModel.load(dir, dtype, m, k);
                            LoraModel l = LoraModel.attach(model, lora, 1);
                            TcpCollective c = TcpCollective.connect(rank, 2, "127.0.0.1", port, Duration.ofSeconds(30))) {
                        List<Batch> shardEval = new ArrayList<>();
                        for (int i = rank; i < eval.size(); i += 2) {
                            shardEval.add(eval.get(i));
                        }
                        Trainer t = new Trainer(l, settings, new Shard(full, rank, 2), shardEval, List.of(),
                                options.withCollective(c));
                        TrainingState end = t.run();
                        return new RankRun(weights(l), end, t.optimizer().stepCount());
                    }
                }));
            }
            List<RankRun> runs = new ArrayList<>();
            for (Future<RankRun> f : ranks) {
                runs.add(f.get(120, TimeUnit.SECONDS));
            }
            return runs;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoRanksTakeTheSameStepsAsOneProcessAccumulatingBothShards() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches full = new SyntheticBatches(16, 2, 64, 9); // 8 micro-batches of 2 rows, varying label counts
        List<Batch> eval = new SyntheticBatches(6, 2, 64, 10).inOrder();
        LoraSettings lora = LoraSettings.of(4, 8, TargetModule.ALL_LINEAR);
        RankRun single = trainAlone(dir, DataType.FLOAT32, lora, full, eval, Trainer.Options.defaults());
        List<RankRun> ranks = trainTwoRanks(dir, DataType.FLOAT32, lora, full, eval, Trainer.Options.defaults());
        Map<String, float[]> rankZero = ranks.getFirst().weights();
        for (RankRun run : ranks) {
            // every rank applies the same summed gradients: the replicas are bit-identical, not just close
            for (String key : rankZero.keySet()) {
                assertThat(run.weights().get(key)).as(key).containsExactly(rankZero.get(key));
            }
            double maxDiff = 0;
            for (String key : single.weights().keySet()) {
                float[] a = single.weights().get(key);
                float[] b = run.weights().get(key);
                for (int i = 0; i < a.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                }
            }
            assertThat(maxDiff).isLessThan(1e-5);
            TrainingState end = run.end();
            assertThat(end.globalStep()).isEqualTo(single.end().globalStep());
            for (int i = 0; i < end.history().size(); i++) {
                assertThat(end.history().get(i).evalLoss())
                        .isCloseTo(single.end().history().get(i).evalLoss(), org.assertj.core.api.Assertions.within(1e-9));
                assertThat(end.history().get(i).trainLoss())
                        .isCloseTo(single.end().history().get(i).trainLoss(), org.assertj.core.api.Assertions.within(1e-6));
            }
        }
    }

    /**
     * The ranks all-reduce the vector of their unread steps' losses at each read: the epoch train losses are those
     * of an all-reduce per step, bit for bit, and equal on both ranks.
     */
    @Test
    void twoRanksReadingLossesPerEpochRecordTheLossesOfAReadPerStep() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches full = new SyntheticBatches(16, 2, 64, 9);
        List<Batch> eval = new SyntheticBatches(6, 2, 64, 10).inOrder();
        LoraSettings lora = LoraSettings.of(4, 8, TargetModule.ALL_LINEAR);
        List<RankRun> perStep = trainTwoRanks(dir, DataType.FLOAT32, lora, full, eval, Trainer.Options.defaults(),
                settings(1, 1));
        // logging off: the losses are read only before each epoch-end evaluation
        List<RankRun> perEpoch = trainTwoRanks(dir, DataType.FLOAT32, lora, full, eval, Trainer.Options.defaults(),
                settings(1, 0));
        List<Double> expected = perStep.getFirst().end().history().stream().map(r -> r.trainLoss()).toList();
        assertThat(expected).hasSize(2).doesNotContainNull();
        for (List<RankRun> runs : List.of(perStep, perEpoch)) {
            for (RankRun run : runs) {
                assertThat(run.end().history().stream().map(r -> r.trainLoss()).toList()).isEqualTo(expected);
            }
        }
    }
}
