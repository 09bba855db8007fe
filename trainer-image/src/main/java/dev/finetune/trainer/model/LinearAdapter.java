package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/** Something added to a frozen linear layer's output (a LoRA adapter); see {@code dev.finetune.trainer.lora}. */
public interface LinearAdapter {

    /** Returns the adapted output given the layer input {@code x} and the frozen layer's output {@code base}. */
    NDArray apply(NDArray x, NDArray base, ForwardContext context);

    /**
     * This adapter as a plain low-rank update, {@code base + B(A(dropout(x))) * scaling} computed in A's dtype and
     * cast back to base's, which the one-call decoder layer computes itself; {@link LowRank#NONE} when it adds
     * nothing (merged into the weight); null when its forward is something else (DoRA).
     */
    LowRank lowRank();

    /** The factors of a plain low-rank update; A [r, in], B [out, r]. */
    record LowRank(NDArray a, NDArray b, double scaling, double dropout) {

        /** An adapter that adds nothing. */
        public static final LowRank NONE = new LowRank(null, null, 0, 0);
    }
}
