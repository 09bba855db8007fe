package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/** Something added to a frozen linear layer's output (a LoRA adapter); see {@code dev.finetune.trainer.lora}. */
public interface LinearAdapter {

    /** Returns the adapted output given the layer input {@code x} and the frozen layer's output {@code base}. */
    NDArray apply(NDArray x, NDArray base, ForwardContext context);
}
