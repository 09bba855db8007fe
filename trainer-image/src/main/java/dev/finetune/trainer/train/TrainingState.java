package dev.finetune.trainer.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the loop stands; everything besides weights and optimizer moments that a resumed run needs to
 * continue exactly like an uninterrupted one.
 *
 * @param epoch current epoch (0-based)
 * @param nextBatch index of the next micro-batch within {@code epoch}
 * @param globalStep optimizer steps done, skipped fp16 steps included (as HF Trainer's global_step)
 * @param epochNll sum of train NLL in the current epoch so far
 * @param epochTokens label tokens in the current epoch so far
 * @param evalsWithoutImprovement early-stopping counter
 * @param lossScale fp16 dynamic loss scaling; null when scaling is off (bf16, fp32) and in checkpoints
 *     written before it existed (a resumed fp16 run then starts from the default scale)
 */
public record TrainingState(int epoch, int nextBatch, long globalStep, long seed, double epochNll, long epochTokens,
        Double bestEvalLoss, Integer bestEpoch, int evalsWithoutImprovement, List<EvalRecord> history,
        LossScaleState lossScale) {

    public TrainingState {
        history = List.copyOf(history == null ? List.of() : history);
    }

    public static TrainingState start(long seed) {
        return new TrainingState(0, 0, 0, seed, 0, 0, null, null, 0, new ArrayList<>(), null);
    }

    public TrainingState withLossScale(LossScaleState scale) {
        return new TrainingState(epoch, nextBatch, globalStep, seed, epochNll, epochTokens, bestEvalLoss, bestEpoch,
                evalsWithoutImprovement, history, scale);
    }

    /** Steps skipped for non-finite fp16 gradients so far (0 without loss scaling). */
    public long skippedSteps() {
        return lossScale == null ? 0 : lossScale.skippedSteps();
    }
}
