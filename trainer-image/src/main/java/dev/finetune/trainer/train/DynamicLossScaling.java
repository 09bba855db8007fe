package dev.finetune.trainer.train;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.trainer.FailureReason;
import java.util.Locale;

/**
 * Dynamic loss scaling for fp16, with the semantics and defaults of PyTorch's
 * {@code torch.amp.GradScaler} (init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000):
 * the loss is multiplied by {@code scale} before the backward pass so that small fp16 activation
 * gradients do not flush to zero; when the step's gradients come out non-finite the step is skipped
 * and the scale backs off, and after {@code growthInterval} clean steps in a row it grows again.
 * bf16 and fp32 have fp32's exponent range and need none of this: for them scaling is {@link #off()}.
 *
 * <p>GradScaler never gives up; we do, because a run that skips every step forever looks alive but
 * learns nothing. The run fails with NAN_LOSS when an overflow happens at a scale that cannot be lowered
 * below {@code minScale} (default 1, DeepSpeed's {@code min_loss_scale}: below 1 the loss would be
 * scaled <em>down</em>, so an overflow there means the true, unscaled gradients do not fit in fp16, which
 * no scale fixes), or after {@code maxConsecutiveSkips} skips in a row (default 40: fp16 spans 40 binades,
 * 2^-24 to 2^15, so 40 halvings have tried every scale that could matter; this bounds a run whose scale
 * had grown very large before it diverged).
 *
 * @param enabled false for bf16/fp32: the scale stays 1 and there is no state to keep
 */
public record DynamicLossScaling(boolean enabled, double initialScale, double growthFactor, double backoffFactor,
        int growthInterval, double minScale, int maxConsecutiveSkips) {

    public static final double DEFAULT_INITIAL_SCALE = 65536.0;
    public static final double DEFAULT_GROWTH_FACTOR = 2.0;
    public static final double DEFAULT_BACKOFF_FACTOR = 0.5;
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;
    public static final double DEFAULT_MIN_SCALE = 1.0;
    public static final int DEFAULT_MAX_CONSECUTIVE_SKIPS = 40;

    public DynamicLossScaling {
        if (enabled) {
            require(initialScale > 0 && Double.isFinite(initialScale), "initialScale must be a positive finite number");
            require(growthFactor > 1 && Double.isFinite(growthFactor), "growthFactor must be greater than 1");
            require(backoffFactor > 0 && backoffFactor < 1, "backoffFactor must be between 0 and 1 (exclusive)");
            require(growthInterval >= 1, "growthInterval must be at least 1");
            require(minScale > 0 && minScale <= initialScale, "minScale must be positive and at most initialScale");
            require(maxConsecutiveSkips >= 1, "maxConsecutiveSkips must be at least 1");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("loss scaling: " + message);
        }
    }

    /** GradScaler's defaults, with the two guards described above. */
    public static DynamicLossScaling gradScalerDefaults() {
        return new DynamicLossScaling(true, DEFAULT_INITIAL_SCALE, DEFAULT_GROWTH_FACTOR, DEFAULT_BACKOFF_FACTOR,
                DEFAULT_GROWTH_INTERVAL, DEFAULT_MIN_SCALE, DEFAULT_MAX_CONSECUTIVE_SKIPS);
    }

    /** No scaling (scale fixed at 1, non-finite gradients fail the run). */
    public static DynamicLossScaling off() {
        return new DynamicLossScaling(false, 1, 1, 1, 0, 1, 0);
    }

    /** Loss scaling for a compute dtype: on for fp16 only. */
    public static DynamicLossScaling forDtype(DataType computeDtype) {
        return computeDtype == DataType.FLOAT16 ? gradScalerDefaults() : off();
    }

    public DynamicLossScaling withInitialScale(double scale) {
        return new DynamicLossScaling(enabled, scale, growthFactor, backoffFactor, growthInterval, minScale,
                maxConsecutiveSkips);
    }

    public DynamicLossScaling withGrowthInterval(int interval) {
        return new DynamicLossScaling(enabled, initialScale, growthFactor, backoffFactor, interval, minScale,
                maxConsecutiveSkips);
    }

    public DynamicLossScaling withMaxConsecutiveSkips(int skips) {
        return new DynamicLossScaling(enabled, initialScale, growthFactor, backoffFactor, growthInterval, minScale, skips);
    }

    /** The state of a fresh run; null when scaling is off. */
    public LossScaleState initialState() {
        return enabled ? new LossScaleState(initialScale, 0, 0, 0) : null;
    }

    /**
     * The state after an optimizer step whose gradients were finite ({@code finite}) or not, as
     * GradScaler's {@code update()}: non-finite → scale × backoff and the clean-step count restarts;
     * finite → one more clean step, and at {@code growthInterval} of them scale × growth (kept only while
     * finite) and the count restarts.
     *
     * @param step the 1-based optimizer step just done, for the failure message
     * @throws TrainingException NAN_LOSS when a guard trips
     */
    public LossScaleState next(LossScaleState s, boolean finite, long step) {
        if (finite) {
            int clean = s.cleanSteps() + 1;
            double scale = s.scale();
            if (clean >= growthInterval) {
                double grown = scale * growthFactor;
                if (Double.isFinite(grown)) {
                    scale = grown;
                }
                clean = 0;
            }
            return new LossScaleState(scale, clean, s.skippedSteps(), 0);
        }
        int consecutive = s.consecutiveSkips() + 1;
        double lowered = s.scale() * backoffFactor;
        if (lowered < minScale) {
            throw new TrainingException(FailureReason.NAN_LOSS, String.format(Locale.ROOT,
                    "fp16 gradients are non-finite at step %d even at loss scale %s (%d overflowed steps in a row, %d in the run):"
                            + " the unscaled gradients overflow fp16, which loss scaling cannot fix. Train with"
                            + " training.precision bf16 (fp32's range; on GPUs since Ampere) or fp32, or lower"
                            + " training.learningRate",
                    step, format(s.scale()), consecutive, s.skippedSteps() + 1));
        }
        if (consecutive >= maxConsecutiveSkips) {
            throw new TrainingException(FailureReason.NAN_LOSS, String.format(Locale.ROOT,
                    "fp16 gradients were non-finite for %d steps in a row (step %d; loss scale lowered to %s):"
                            + " training has diverged. Train with training.precision bf16 (fp32's range; on GPUs since"
                            + " Ampere) or fp32, or lower training.learningRate",
                    consecutive, step, format(lowered)));
        }
        return new LossScaleState(lowered, 0, s.skippedSteps() + 1, consecutive);
    }

    /** Scales are powers of two in practice: print them as integers where they are. */
    public static String format(double scale) {
        return scale == Math.rint(scale) && Math.abs(scale) < 1e15 ? Long.toString((long) scale) : Double.toString(scale);
    }
}
