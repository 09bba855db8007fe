package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.LinearAdapter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LoRA adapter on one frozen linear layer, PEFT's layout: A [r, in] and B [out, r], trainable in fp32 while
 * W stays frozen in the model dtype, dropout on the adapter input only; its {@link LoraVariant} says how it
 * combines with W. While merged, W already holds the adapted weight and the adapter is a no-op.
 */
public final class LoraAdapter implements LinearAdapter {

    private final String modulePath;
    private final NDArray a;
    private final NDArray b;
    private final double scaling;
    private final double dropout;
    private final LoraVariant variant;
    private boolean merged;

    LoraAdapter(String modulePath, NDArray a, NDArray b, double scaling, double dropout, LoraVariant variant) {
        this.modulePath = modulePath;
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        this.dropout = dropout;
        this.variant = variant;
    }

    @Override
    public NDArray apply(NDArray x, NDArray base, ForwardContext context) {
        return merged ? base : variant.forward(this, x, base, context);
    }

    @Override
    public LowRank lowRank() {
        if (merged) {
            return LowRank.NONE;
        }
        return variant == LoraVariant.PLAIN ? new LowRank(a, b, scaling, dropout) : null;
    }

    /** The trained tensors by PEFT key: A, B, then the variant's. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put(keyA(), a);
        out.put(keyB(), b);
        out.putAll(variant.parameters(modulePath));
        return out;
    }

    public LoraVariant variant() {
        return variant;
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

    public double dropout() {
        return dropout;
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
