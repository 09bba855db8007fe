package dev.finetune.trainer.train;

/**
 * Where dynamic loss scaling stands (fp16 only); saved in every checkpoint so a resumed run scales,
 * skips and grows exactly like an uninterrupted one.
 *
 * @param scale the factor the loss is multiplied by before the backward pass
 * @param cleanSteps optimizer steps with finite gradients since the scale last changed (GradScaler's growth tracker)
 * @param skippedSteps steps skipped for non-finite gradients since the start of the run
 * @param consecutiveSkips steps skipped in a row up to now; 0 after a step that was taken
 */
public record LossScaleState(double scale, int cleanSteps, long skippedSteps, int consecutiveSkips) {

    /** Whether the latest step was skipped (its gradients overflowed). */
    public boolean lastStepSkipped() {
        return consecutiveSkips > 0;
    }
}
