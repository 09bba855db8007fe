package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.DynamicLossScaling;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingState;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        Trainer.Options scaled = Trainer.Options.defaults().withLossScaling(SCALING);
        TrainingState single = DataParallelTest.trainAlone(dir, DataType.FLOAT16, LORA, full, List.of(), scaled).end();
        assertThat(single.lossScale().skippedSteps()).isPositive().isLessThan(single.globalStep());
        List<DataParallelTest.RankRun> ranks = DataParallelTest.trainTwoRanks(dir, DataType.FLOAT16, LORA, full, List.of(),
                scaled);
        for (DataParallelTest.RankRun run : ranks) {
            assertThat(run.end().lossScale()).isEqualTo(single.lossScale());
            assertThat(run.optimizerSteps()).isEqualTo(single.globalStep() - single.lossScale().skippedSteps());
        }
        Map<String, float[]> w0 = ranks.get(0).weights();
        Map<String, float[]> w1 = ranks.get(1).weights();
        for (String key : w0.keySet()) {
            assertThat(w1.get(key)).as(key).containsExactly(w0.get(key));
        }
    }
}
