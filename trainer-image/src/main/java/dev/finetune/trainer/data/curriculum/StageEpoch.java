package dev.finetune.trainer.data.curriculum;

import java.util.List;

/**
 * Where a training epoch falls in a curriculum: stages run one after the other, so training epoch {@code e}
 * (0-based, counted over all stages) is epoch {@code e - (epochs of the stages before)} of the stage that
 * covers it. Epochs past the end belong to the last stage.
 *
 * @param index the stage's position in the plan
 * @param stage the stage
 * @param epoch the epoch within the stage (0-based)
 */
public record StageEpoch(int index, StagePlan stage, int epoch) {

    public static StageEpoch of(List<StagePlan> stages, int epoch) {
        int e = epoch;
        for (int s = 0; s < stages.size(); s++) {
            if (e < stages.get(s).epochs() || s == stages.size() - 1) {
                return new StageEpoch(s, stages.get(s), e);
            }
            e -= stages.get(s).epochs();
        }
        throw new IllegalArgumentException("a curriculum needs at least one stage");
    }

    /** Epochs of all stages together. */
    public static int totalEpochs(List<StagePlan> stages) {
        return stages.stream().mapToInt(StagePlan::epochs).sum();
    }
}
