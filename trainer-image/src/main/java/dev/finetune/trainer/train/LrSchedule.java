package dev.finetune.trainer.train;

import dev.finetune.api.v1alpha1.Scheduler;

/**
 * Learning rate per optimizer step, as HF Transformers' schedulers compute it: the step with index
 * {@code k} (0-based) uses {@code peak * lambda(k)}; warmup is linear from 0, then
 * cosine ({@code 0.5 (1 + cos(pi * progress))}), linear decay to 0, or constant.
 */
public record LrSchedule(Scheduler kind, double peak, long warmupSteps, long totalSteps) {

    public LrSchedule {
        if (warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("schedule needs warmupSteps >= 0 and totalSteps > 0");
        }
    }

    public double at(long step) {
        return peak * lambda(step);
    }

    double lambda(long step) {
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        return switch (kind) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 2.0 * 0.5 * progress)));
            }
        };
    }
}
