package dev.finetune.trainer.model;

import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.script.Kernels;

/**
 * Per-forward settings: whether dropout is active, and the seed that makes dropout masks a pure
 * function of (seed, step, micro-batch, layer). Reseeding before each layer lets gradient
 * checkpointing recompute a layer with exactly the masks of its first pass, and makes a resumed
 * run draw the same masks as an uninterrupted one.
 */
public record ForwardContext(Kernels kernels, boolean training, long dropoutSeed) {

    public static ForwardContext inference(Kernels kernels) {
        return new ForwardContext(kernels, false, 0);
    }

    /** Seeds libtorch's generator for layer {@code layer}; no-op outside training. */
    public void seedLayer(int layer) {
        if (training) {
            Autograd.seed(mix(dropoutSeed, layer));
        }
    }

    public static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & Long.MAX_VALUE;
    }
}
