package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import dev.finetune.trainer.script.Kernels;

/**
 * {@code torch.nn.utils.clip_grad_norm_}: the global L2 norm over all gradients (fp64 sums), and when it
 * exceeds {@code maxNorm} every gradient is multiplied by {@code maxNorm / (norm + 1e-6)}.
 * (DJL's {@code optClipGrad} clamps element-wise, which is a different thing.)
 */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * One step's clipping where the gradients are, nothing read: {@code norm} is the global norm over the loss
     * scale, {@code factor} what the update multiplies the gradients by ({@link #coefficient} over the loss scale),
     * both fp64 scalars computed as the host would.
     */
    public record OnDevice(NDArray norm, NDArray factor) {

        public static OnDevice of(NDArray squaredSum, double maxNorm, double lossScale, Kernels kernels) {
            NDArray[] out = kernels.clipFactor(squaredSum, maxNorm, lossScale);
            return new OnDevice(out[0], out[1]);
        }
    }

    /** The factor gradients are multiplied by; 1 when no clipping applies (the rule {@link OnDevice} computes). */
    public static double coefficient(double norm, double maxNorm) {
        if (maxNorm <= 0) {
            return 1;
        }
        double coef = maxNorm / (norm + 1e-6);
        return Math.min(coef, 1.0);
    }
}
