package dev.finetune.trainer.train;

import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TrainingSpec;

/**
 * The loop's hyperparameters (HF Trainer meanings).
 *
 * @param warmupSteps resolved warmup (from steps or ratio)
 * @param maxSteps 0 = no limit beyond epochs
 * @param evalEverySteps 0 = evaluate at epoch ends only
 * @param earlyStoppingPatience 0 = off; stop after this many evaluations without an improvement of at least minDelta
 */
public record TrainingSettings(
        int epochs,
        double learningRate,
        Scheduler scheduler,
        Integer warmupSteps,
        Double warmupRatio,
        int gradientAccumulationSteps,
        double maxGradNorm,
        double weightDecay,
        boolean gradientCheckpointing,
        long seed,
        int logEverySteps,
        int evalEverySteps,
        long maxSteps,
        int earlyStoppingPatience,
        double earlyStoppingMinDelta) {

    public TrainingSettings {
        if (epochs <= 0) {
            throw new IllegalArgumentException("training.epochs must be positive");
        }
        if (gradientAccumulationSteps <= 0) {
            throw new IllegalArgumentException("training.gradientAccumulationSteps must be positive");
        }
        if (learningRate <= 0 || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("training.learningRate must be a positive number");
        }
    }

    /**
     * The spec's {@code training} section; {@code epochs} counts the epochs of all curriculum stages. Warmup
     * comes from warmupSteps, else warmupRatio, else {@link TrainingSpec#DEFAULT_WARMUP_RATIO}.
     */
    public static TrainingSettings of(TrainingSpec t, int epochs) {
        Double ratio = t.getWarmupSteps() == null
                ? (t.getWarmupRatio() != null ? t.getWarmupRatio() : TrainingSpec.DEFAULT_WARMUP_RATIO) : null;
        int patience = t.getEarlyStopping() == null ? 0 : t.getEarlyStopping().getPatience();
        double minDelta = t.getEarlyStopping() == null ? 0 : t.getEarlyStopping().getMinDelta();
        return new TrainingSettings(epochs, t.getLearningRate(), t.getScheduler(), t.getWarmupSteps(), ratio,
                t.getGradientAccumulationSteps(), t.getMaxGradNorm(), t.getWeightDecay(), t.isGradientCheckpointing(),
                t.getSeed(), t.getLogEverySteps(), t.getEvalEverySteps() == null ? 0 : t.getEvalEverySteps(),
                t.getMaxSteps() == null ? 0 : t.getMaxSteps(), patience, minDelta);
    }

    public static TrainingSettings defaults(int epochs, double lr) {
        return new TrainingSettings(epochs, lr, Scheduler.COSINE, 0, null, 1, 1.0, 0.0, false, 42, 10, 0, 0, 0, 0);
    }

    /**
     * The warmup a run of {@code totalSteps} optimizer steps uses: {@link #resolvedWarmup(long)}, but at most
     * {@code totalSteps - 1}. Warmup starts at learning rate 0 (as HF's schedulers do), so a warmup as long as the
     * run would spend every step below the peak, and a one-step run would train at 0 and change nothing; clamped,
     * the last step reaches the peak and a one-step run trains at the peak.
     */
    public long warmupFor(long totalSteps) {
        return Math.max(0, Math.min(resolvedWarmup(totalSteps), totalSteps - 1));
    }

    /** Warmup from warmupSteps, else ceil(warmupRatio x totalSteps), as HF TrainingArguments resolves it. */
    public int resolvedWarmup(long totalSteps) {
        if (warmupSteps != null) {
            return warmupSteps;
        }
        double ratio = warmupRatio == null ? 0.0 : warmupRatio;
        return (int) Math.ceil(ratio * totalSteps);
    }

    public TrainingSettings withMaxSteps(long steps) {
        return new TrainingSettings(epochs, learningRate, scheduler, warmupSteps, warmupRatio, gradientAccumulationSteps,
                maxGradNorm, weightDecay, gradientCheckpointing, seed, logEverySteps, evalEverySteps, steps,
                earlyStoppingPatience, earlyStoppingMinDelta);
    }
}
