package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.DynamicLossScaling;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fp16 loss scaling across ranks: the overflow check runs on the all-reduced gradients, so an overflow on
 * any rank skips the step on every rank, exactly as one process accumulating both shards skips it.
 */
class Fp16DataParallelTest {

    @TempDir
    Path tmp;

    static final LoraSettings LORA = LoraSettings.of(4, 8, TargetModule.ALL_LINEAR);
    // overflows for the first steps, then backs off to a scale that fits
    static final DynamicLossScaling SCALING = DynamicLossScaling.gradScalerDefaults().withInitialScale(Math.pow(2, 22));

    @Test
    void ranksSkipTheSameStepsAsOneProcessAccumulatingBothShards() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches full = new SyntheticBatches(16, 2, 64, 9);
        TrainingState single;
        try (NDManager m = NDManager.newBaseManager();
                Kernels k = Kernels.load(m);
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT16, m, k);
                LoraModel l = LoraModel.attach(model, LORA, 1)) {
            Trainer t = new Trainer(l, DataParallelTest.settings(2), full, List.of(), List.of(),
                    Trainer.Options.defaults().withLossScaling(SCALING));
            single = t.run();
        }
        assertThat(single.lossScale().skippedSteps()).isPositive().isLessThan(single.globalStep());
        int port = DataParallelTest.freePort();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object[]>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                ranks.add(pool.submit(() -> {
                    try (NDManager m = NDManager.newBaseManager();
                            Kernels k = Kernels.load(m);
                            DecoderModel model = DecoderModel.load(dir, DataType.FLOAT16, m, k);
                            LoraModel l = LoraModel.attach(model, LORA, 1);
                            TcpCollective c = TcpCollective.connect(rank, 2, "127.0.0.1", port, Duration.ofSeconds(30))) {
                        Trainer t = new Trainer(l, DataParallelTest.settings(1), new DataParallelTest.Shard(full, rank, 2),
                                List.of(), List.of(), Trainer.Options.defaults().withCollective(c).withLossScaling(SCALING));
                        TrainingState end = t.run();
                        return new Object[] {DataParallelTest.weights(l), end, t.optimizer().stepCount()};
                    }
                }));
            }
            Object[] rank0 = ranks.get(0).get(120, TimeUnit.SECONDS);
            Object[] rank1 = ranks.get(1).get(120, TimeUnit.SECONDS);
            for (Object[] result : List.of(rank0, rank1)) {
                TrainingState end = (TrainingState) result[1];
                assertThat(end.lossScale()).isEqualTo(single.lossScale());
                assertThat((long) result[2]).isEqualTo(single.globalStep() - single.lossScale().skippedSteps());
            }
            @SuppressWarnings("unchecked")
            Map<String, float[]> w0 = (Map<String, float[]>) rank0[0];
            @SuppressWarnings("unchecked")
            Map<String, float[]> w1 = (Map<String, float[]>) rank1[0];
            for (String key : w0.keySet()) {
                assertThat(w1.get(key)).as(key).containsExactly(w0.get(key));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
