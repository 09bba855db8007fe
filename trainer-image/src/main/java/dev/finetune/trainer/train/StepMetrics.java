package dev.finetune.trainer.train;

/**
 * What a logged optimizer step reports. {@code loss} is the step's exact token-weighted mean NLL;
 * {@code gradNorm} the unscaled global gradient norm before clipping (non-finite on a skipped fp16 step);
 * {@code lossScale} the fp16 loss-scaling state after the step (null when scaling is off).
 */
public record StepMetrics(long step, long totalSteps, int epoch, double epochProgress, double loss, double gradNorm,
        double learningRate, double tokensPerSecond, double elapsedSeconds, LossScaleState lossScale) {}
