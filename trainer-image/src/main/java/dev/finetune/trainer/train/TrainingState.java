package dev.finetune.trainer.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the loop stands; everything besides weights and optimizer moments that a resumed run needs to
 * continue exactly like an uninterrupted one. Immutable: the loop moves on through the withers.
 *
 * @param epoch current epoch (0-based)
 * @param nextBatch index of the next micro-batch within {@code epoch}
 * @param globalStep optimizer steps done, skipped fp16 steps included (as HF Trainer's global_step)
 * @param epochNll sum of train NLL in the current epoch, over the steps whose loss the loop has read (it reads
 *     at every log step and before every evaluation and checkpoint: complete whenever a listener sees it)
 * @param epochTokens label tokens in the current epoch so far
 * @param evalsWithoutImprovement early-stopping counter
 * @param lossScale fp16 dynamic loss scaling; null when scaling is off (bf16, fp32) and in a state saved
 *     without it (a resumed fp16 run then starts from the default scale)
 */
public record TrainingState(int epoch, int nextBatch, long globalStep, long seed, double epochNll, long epochTokens,
        Double bestEvalLoss, Integer bestEpoch, int evalsWithoutImprovement, List<EvalRecord> history,
        LossScaleState lossScale) {

    public TrainingState {
        history = List.copyOf(history == null ? List.of() : history);
    }

    public static TrainingState start(long seed) {
        return new TrainingState(0, 0, 0, seed, 0, 0, null, null, 0, List.of(), null);
    }

    /** The state at the start of {@code epoch}: first micro-batch, epoch loss sums at zero. */
    public TrainingState atEpochStart(int epoch) {
        return new TrainingState(epoch, 0, globalStep, seed, 0, 0, bestEvalLoss, bestEpoch, evalsWithoutImprovement,
                history, lossScale);
    }

    /**
     * The state after one optimizer step that consumed micro-batches up to {@code nextBatch}; its loss is added by
     * {@link #plusTrainNll} once read.
     */
    public TrainingState afterStep(int nextBatch, long labelTokens, LossScaleState scale) {
        return new TrainingState(epoch, nextBatch, globalStep + 1, seed, epochNll, epochTokens + labelTokens,
                bestEvalLoss, bestEpoch, evalsWithoutImprovement, history, scale);
    }

    /** One step's train NLL sum added to the epoch's (steps are added in order). */
    public TrainingState plusTrainNll(double nll) {
        return new TrainingState(epoch, nextBatch, globalStep, seed, epochNll + nll, epochTokens, bestEvalLoss, bestEpoch,
                evalsWithoutImprovement, history, lossScale);
    }

    /** The state after an evaluation: its record appended to the history, best loss and patience counter. */
    public TrainingState afterEvaluation(EvalRecord record, Double best, Integer bestEpochOfBest, int withoutImprovement) {
        List<EvalRecord> longer = new ArrayList<>(history);
        longer.add(record);
        return new TrainingState(epoch, nextBatch, globalStep, seed, epochNll, epochTokens, best, bestEpochOfBest,
                withoutImprovement, longer, lossScale);
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
