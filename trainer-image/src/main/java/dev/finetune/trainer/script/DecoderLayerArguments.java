package dev.finetune.trainer.script;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What the one-call decoder layer ({@link Kernels#decoderLayer}) needs besides its input: the layer's tensors in
 * a fixed order, an empty tensor standing for each one the layer does not have.
 *
 * @param weights input norm, post-attention norm, q norm, k norm, then the q, k, v, o, gate, up, down weights
 * @param biases the seven projections' biases in the same order (a trainable fp32 copy where LoRA trains biases)
 * @param loraA the seven projections' LoRA A (empty: no adapter, or one merged into the weight)
 * @param loraB the seven projections' LoRA B
 * @param scalings the seven adapters' scalings (0 where there is none)
 * @param dropouts the seven adapters' dropout probabilities
 * @param shape query heads, key/value heads, head dimension
 * @param eps the RMSNorm epsilon
 */
public record DecoderLayerArguments(List<NDArray> weights, List<NDArray> biases, List<NDArray> loraA,
        List<NDArray> loraB, double[] scalings, double[] dropouts, long[] shape, double eps) {

    /** The projections in the order of the lists. */
    public static final int PROJECTIONS = 7;
}
