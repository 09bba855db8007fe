package dev.finetune.trainer.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * libtorch's autograd as the trainer uses it. Grad mode is per thread; the trainer's rule is that it is
 * off except inside {@link #withGrad}, the forward passes whose graph a backward pass will walk.
 * Gradients flow only into tensors marked with {@code setRequiresGradient(true)} (the LoRA parameters);
 * base weights are never marked, so they stay frozen.
 */
public final class Autograd {

    private Autograd() {}

    /** Runs {@code forward} recording the autograd graph, then turns grad mode off. */
    public static <T> T withGrad(Supplier<T> forward) {
        JniUtils.setGradMode(true);
        try {
            return forward.get();
        } finally {
            JniUtils.setGradMode(false);
        }
    }

    /** Runs {@code work} without recording a graph, then restores the caller's grad mode. */
    public static <T> T withoutGrad(Supplier<T> work) {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return work.get();
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /** {@link #withoutGrad(Supplier)} for work without a result. */
    public static void withoutGrad(Runnable work) {
        withoutGrad(() -> {
            work.run();
            return null;
        });
    }

    /** Turns grad mode off for this thread (evaluation and generation run without a graph). */
    public static void disable() {
        JniUtils.setGradMode(false);
    }

    /** Back-propagates {@code upstream} (dLoss/dOutput) through the graph that produced {@code output}. */
    public static void backward(NDArray output, NDArray upstream) {
        JniUtils.backward(pt(output), pt(upstream), false, false);
    }

    /** A copy of {@code x} cut from its graph that collects its own gradient (a new leaf). */
    public static NDArray leaf(NDArray x) {
        NDArray detached = JniUtils.detachGradient(pt(x));
        detached.attach(x.getManager());
        detached.setRequiresGradient(true);
        return detached;
    }

    /**
     * Whether a backward pass has stored a gradient on {@code parameter} (libtorch's {@code p.grad} is defined);
     * DJL's {@code NDArray.hasGradient} answers something else: whether it requires one.
     */
    public static boolean hasStoredGradient(NDArray parameter) {
        PtNDArray gradient = JniUtils.getGradient(pt(parameter));
        if (gradient == null) {
            return false;
        }
        gradient.close();
        return true;
    }

    /** Zeroes the gradient accumulated on {@code parameter} in place. */
    public static void zeroGradient(NDArray parameter) {
        JniUtils.zeroGrad(pt(parameter));
    }

    /** Seeds libtorch's global generator (dropout masks). */
    public static void seed(long seed) {
        JniUtils.setSeed(seed);
    }

    static PtNDArray pt(NDArray array) {
        if (array instanceof PtNDArray pt) {
            return pt;
        }
        throw new IllegalArgumentException("expected a tensor of DJL's PyTorch engine, got " + array.getClass().getName());
    }
}
