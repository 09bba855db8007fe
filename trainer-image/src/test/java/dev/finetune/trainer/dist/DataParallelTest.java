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
        return new TrainingSettings(2, 1e-2, Scheduler.COSINE, 1, null, accumulation, 1.0, 0.01, false, 5, 0, 0, 0,
                0, 0);
    }

    static Map<String, float[]> weights(LoraModel lora) {
        Map<String, float[]> out = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void twoRanksTakeTheSameStepsAsOneProcessAccumulatingBothShards() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches full = new SyntheticBatches(16, 2, 64, 9); // 8 micro-batches of 2 rows, varying label counts
        List<Batch> eval = new SyntheticBatches(6, 2, 64, 10).inOrder();
        LoraSettings lora = LoraSettings.of(4, 8, TargetModule.ALL_LINEAR);
        Map<String, float[]> single;
        TrainingState singleEnd;
        try (NDManager m = NDManager.newBaseManager();
                Kernels k = Kernels.load(m);
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, k);
                LoraModel l = LoraModel.attach(model, lora, 1)) {
            singleEnd = new Trainer(l, settings(2), full, eval, List.of()).run();
            single = weights(l);
        }
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object[]>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                ranks.add(pool.submit(() -> {
                    try (NDManager m = NDManager.newBaseManager();
                            Kernels k = Kernels.load(m);
                            DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, k);
                            LoraModel l = LoraModel.attach(model, lora, 1);
                            TcpCollective c = TcpCollective.connect(rank, 2, "127.0.0.1", port, Duration.ofSeconds(30))) {
                        // each rank evaluates half of the eval set; the loss is reduced over both
                        List<Batch> shardEval = new ArrayList<>();
                        for (int i = rank; i < eval.size(); i += 2) {
                            shardEval.add(eval.get(i));
                        }
                        Trainer t = new Trainer(l, settings(1), new Shard(full, rank, 2), shardEval, List.of(),
                                Trainer.Options.defaults().withCollective(c));
                        TrainingState end = t.run();
                        return new Object[] {weights(l), end};
                    }
                }));
            }
            Map<String, float[]> rankZero = null;
            for (Future<Object[]> f : ranks) {
                Object[] result = f.get(120, TimeUnit.SECONDS);
                @SuppressWarnings("unchecked")
                Map<String, float[]> w = (Map<String, float[]>) result[0];
                if (rankZero == null) {
                    rankZero = w;
                } else {
                    // every rank applies the same summed gradients: the replicas are bit-identical, not just close
                    for (String key : rankZero.keySet()) {
                        assertThat(w.get(key)).as(key).containsExactly(rankZero.get(key));
                    }
                }
                TrainingState end = (TrainingState) result[1];
                double maxDiff = 0;
                for (String key : single.keySet()) {
                    float[] a = single.get(key);
                    float[] b = w.get(key);
                    for (int i = 0; i < a.length; i++) {
                        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                    }
                }
                assertThat(maxDiff).isLessThan(1e-5);
                assertThat(end.globalStep()).isEqualTo(singleEnd.globalStep());
                for (int i = 0; i < end.history().size(); i++) {
                    assertThat(end.history().get(i).evalLoss())
                            .isCloseTo(singleEnd.history().get(i).evalLoss(), org.assertj.core.api.Assertions.within(1e-9));
                    assertThat(end.history().get(i).trainLoss())
                            .isCloseTo(singleEnd.history().get(i).trainLoss(), org.assertj.core.api.Assertions.within(1e-6));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
