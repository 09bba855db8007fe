package dev.finetune.trainer.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the loop stands; everything besides weights and optimizer moments that a resumed run needs to
 * continue exactly like an uninterrupted one.
 *
 * @param epoch current epoch (0-based)
 * @param nextBatch index of the next micro-batch within {@code epoch}
 * @param globalStep optimizer steps done
 * @param epochNll sum of train NLL in the current epoch so far
 * @param epochTokens label tokens in the current epoch so far
 * @param evalsWithoutImprovement early-stopping counter
 */
public record TrainingState(int epoch, int nextBatch, long globalStep, long seed, double epochNll, long epochTokens,
        Double bestEvalLoss, Integer bestEpoch, int evalsWithoutImprovement, List<EvalRecord> history) {

    public TrainingState {
        history = List.copyOf(history == null ? List.of() : history);
    }

    public static TrainingState start(long seed) {
        return new TrainingState(0, 0, 0, seed, 0, 0, null, null, 0, new ArrayList<>());
    }
}
