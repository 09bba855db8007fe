package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.LinearAdapter;

/**
 * {@code y = W x + B(A(dropout(x))) * scaling}, A [r, in] and B [out, r] trainable in fp32 while W stays
 * frozen in the model dtype. While merged, W already holds {@code W + scaling B A} and the adapter is a no-op.
 */
public final class LoraAdapter implements LinearAdapter {

    private final String modulePath;
    private final NDArray a;
    private final NDArray b;
    private final double scaling;
    private final double dropout;
    private boolean merged;

    LoraAdapter(String modulePath, NDArray a, NDArray b, double scaling, double dropout) {
        this.modulePath = modulePath;
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        this.dropout = dropout;
    }

    @Override
    public NDArray apply(NDArray x, NDArray base, ForwardContext context) {
        if (merged) {
            return base;
        }
        return context.kernels().loraDelta(x, base, a, b, scaling, dropout, context.training());
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
