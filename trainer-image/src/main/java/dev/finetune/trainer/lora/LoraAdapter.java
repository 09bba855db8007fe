package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.model.LinearAdapter;

/**
 * {@code y = W x + B(A(dropout(x))) * scaling}, A [r, in] and B [out, r] trainable in fp32 while W stays
 * frozen in the model dtype; with DoRA also a trainable magnitude m [out] that rescales each output row
 * to {@code m / ||W + scaling B A||_row}. While merged, W already holds the adapted weight and the
 * adapter is a no-op.
 */
public final class LoraAdapter implements LinearAdapter {

    private final String modulePath;
    private final NDArray a;
    private final NDArray b;
    private final double scaling;
    private final double dropout;
    private final NDArray magnitude;
    private final Linear linear;
    private final NDArray zeroBias;
    private NDArray mergeFactor;
    private boolean merged;

    LoraAdapter(String modulePath, NDArray a, NDArray b, double scaling, double dropout, NDArray magnitude,
            Linear linear, NDArray zeroBias) {
        this.modulePath = modulePath;
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        this.dropout = dropout;
        this.magnitude = magnitude;
        this.linear = linear;
        this.zeroBias = zeroBias;
    }

    @Override
    public NDArray apply(NDArray x, NDArray base, ForwardContext context) {
        if (merged) {
            return base;
        }
        if (magnitude != null) {
            NDArray bias = linear.bias() != null ? linear.bias() : zeroBias;
            return context.kernels().doraDelta(x, base, linear.weight(), bias, a, b, magnitude, scaling, dropout,
                    context.training());
        }
        return context.kernels().loraDelta(x, base, a, b, scaling, dropout, context.training());
    }

    /** DoRA's trainable magnitude vector [out] (null for plain LoRA). */
    public NDArray magnitude() {
        return magnitude;
    }

    /** PEFT state-dict key of the DoRA magnitude (no ".weight" suffix). */
    public String keyMagnitude() {
        return "base_model.model." + modulePath + ".lora_magnitude_vector";
    }

    NDArray mergeFactor() {
        return mergeFactor;
    }

    void setMergeFactor(NDArray factor) {
        if (mergeFactor != null && mergeFactor != factor) {
            mergeFactor.close();
        }
        mergeFactor = factor;
    }

    public String modulePath() {
        return modulePath;
    }

    public NDArray a() {
        return a;
    }

    public NDArray b() {
        return b;
    }

    public double scaling() {
        return scaling;
    }

    public boolean merged() {
        return merged;
    }

    void setMerged(boolean merged) {
        this.merged = merged;
    }

    /** PEFT state-dict key of A. */
    public String keyA() {
        return "base_model.model." + modulePath + ".lora_A.weight";
    }

    /** PEFT state-dict key of B. */
    public String keyB() {
        return "base_model.model." + modulePath + ".lora_B.weight";
    }
}
