package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * A frozen {@code nn.Linear}: {@code y = x W^T + b}, W shaped [out, in] as in HF checkpoints, with an
 * optional adapter (LoRA) on top. {@code path} is the HF module path, e.g. {@code model.layers.0.self_attn.q_proj}.
 */
public final class Linear {

    private final String path;
    private NDArray weight;
    private final NDArray bias;
    private NDArray trainableBias;
    private LinearAdapter adapter;

    public Linear(String path, NDArray weight, NDArray bias) {
        this.path = path;
        this.weight = weight;
        this.bias = bias;
    }

    public NDArray forward(NDArray x, ForwardContext context) {
        NDArray base = context.kernels().linear(x, weight, effectiveBias());
        return adapter == null ? base : adapter.apply(x, base, context);
    }

    public String path() {
        return path;
    }

    /** Short module name (q_proj, ..., down_proj), what PEFT's target_modules match. */
    public String name() {
        return path.substring(path.lastIndexOf('.') + 1);
    }

    public NDArray weight() {
        return weight;
    }

    /** The frozen bias from the checkpoint (null when the layer has none). */
    public NDArray bias() {
        return bias;
    }

    /** The bias in use: a trained fp32 copy when LoRA trains biases, else the frozen one. */
    public NDArray effectiveBias() {
        return trainableBias != null ? trainableBias : bias;
    }

    /** Replaces the bias by a trainable fp32 tensor (LoRA {@code bias: all | lora_only}); null restores the frozen one. */
    public void setTrainableBias(NDArray trainableBias) {
        this.trainableBias = trainableBias;
    }

    public long inFeatures() {
        return weight.getShape().get(1);
    }

    public long outFeatures() {
        return weight.getShape().get(0);
    }

    public LinearAdapter adapter() {
        return adapter;
    }

    public void setAdapter(LinearAdapter adapter) {
        this.adapter = adapter;
    }

    /** Replaces the frozen weight (merge/unmerge); the old tensor is closed. */
    public void replaceWeight(NDArray newWeight) {
        NDArray old = weight;
        weight = newWeight;
        if (old != newWeight) {
            old.close();
        }
    }
}
