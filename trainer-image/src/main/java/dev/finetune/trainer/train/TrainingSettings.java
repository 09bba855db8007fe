package dev.finetune.trainer.train;

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
        LrSchedule.Kind scheduler,
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

    public static TrainingSettings defaults(int epochs, double lr) {
        return new TrainingSettings(epochs, lr, LrSchedule.Kind.COSINE, 0, null, 1, 1.0, 0.0, false, 42, 10, 0, 0, 0, 0);
    }

    public int resolvedWarmup(long totalSteps) {
        if (warmupSteps != null) {
            return warmupSteps;
        }
        double ratio = warmupRatio == null ? 0.0 : warmupRatio;
        return (int) Math.ceil(ratio * totalSteps);
    }

    public TrainingSettings withGradientCheckpointing(boolean on) {
        return new TrainingSettings(epochs, learningRate, scheduler, warmupSteps, warmupRatio, gradientAccumulationSteps,
                maxGradNorm, weightDecay, on, seed, logEverySteps, evalEverySteps, maxSteps, earlyStoppingPatience,
                earlyStoppingMinDelta);
    }

    public TrainingSettings withMaxSteps(long steps) {
        return new TrainingSettings(epochs, learningRate, scheduler, warmupSteps, warmupRatio, gradientAccumulationSteps,
                maxGradNorm, weightDecay, gradientCheckpointing, seed, logEverySteps, evalEverySteps, steps,
                earlyStoppingPatience, earlyStoppingMinDelta);
    }
}
