package dev.finetune.trainer.data;

import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.curriculum.StageEpoch;
import dev.finetune.trainer.data.curriculum.StagePlan;
import java.util.ArrayList;
import java.util.List;

/**
 * This rank's training batches over the whole curriculum: epoch {@code e} of the loop is the
 * {@link StageEpoch} of the stage that covers it, batched by that stage's batcher.
 */
public final class TrainBatches implements BatchSource {

    private final List<StagePlan> stages;
    private final List<Batcher> batchers = new ArrayList<>();
    private int cachedEpoch = -1;
    private List<Batch> cached;

    TrainBatches(PreparedDataset data) {
        this.stages = data.stages();
        for (StagePlan stage : stages) {
            batchers.add(data.batcher(stage));
        }
    }

    private List<Batch> epochBatches(int epoch) {
        if (epoch != cachedEpoch) {
            StageEpoch at = StageEpoch.of(stages, epoch);
            cached = batchers.get(at.index()).trainEpoch(at.epoch());
            cachedEpoch = epoch;
        }
        return cached;
    }

    @Override
    public int batchesPerEpoch(int epoch) {
        return epochBatches(epoch).size();
    }

    @Override
    public Batch batch(int epoch, int index) {
        return epochBatches(epoch).get(index);
    }
}
