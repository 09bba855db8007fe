package dev.finetune.trainer.train;

/** What a logged optimizer step reports. {@code loss} is the step's exact token-weighted mean NLL. */
public record StepMetrics(long step, long totalSteps, int epoch, double epochProgress, double loss, double gradNorm,
        double learningRate, double tokensPerSecond, double elapsedSeconds) {}
