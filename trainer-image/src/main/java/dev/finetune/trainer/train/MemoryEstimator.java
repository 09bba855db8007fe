package dev.finetune.trainer.train;

import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.trainer.model.ModelConfig;

/**
 * A worker's peak memory for a LoRA run, estimated from the model's shape and the run's settings, so that a
 * worker the kernel kills for its memory limit fails with a figure to request instead of a guess. Terms:
 * <ul>
 *   <li>weights: every base parameter at the compute precision's width (frozen, no gradient, no optimizer state);</li>
 *   <li>trainable parameters: fp32 value, fp32 gradient and AdamW's two fp32 moments, 16 bytes each;</li>
 *   <li>activations kept for the backward pass of one micro-batch (batch × sequences per example × maxSeqLength
 *       tokens), per decoder layer and token: the two norms' outputs, q/k/v, the attention output and its
 *       projection input, the residual stream (6·hidden + 2·kvHeads·headDim), the SwiGLU MLP's gate, up,
 *       activation and product (4·intermediate), and per sequence the attention scores and probabilities
 *       (2·heads·seq²); with gradient checkpointing only each layer's input is kept, plus one layer's full set
 *       while it is recomputed;</li>
 *   <li>logits: fp32 logits, their softmax and its gradient over the vocabulary (3·vocab per token);</li>
 *   <li>the runtime's baseline: the JVM heap and libtorch's code and allocator pools, a fixed
 *       {@value #RUNTIME_BASELINE_MIB} MiB.</li>
 * </ul>
 * Preference training (dpo, orpo) runs a chosen and a rejected sequence per example. The estimate errs high: it
 * assumes every sequence is maxSeqLength long and attention keeps its full score matrices.
 */
public final class MemoryEstimator {

    static final long RUNTIME_BASELINE_MIB = 768;
    private static final long TRAINABLE_BYTES = 16;
    private static final long LOGIT_BYTES = 4;

    /** What a run is: its model and the settings that decide the memory. */
    public record Run(ModelConfig model, long baseParameters, int elementBytes, long trainableParameters, int batchSize,
            int maxSeqLength, boolean gradientCheckpointing, boolean pairs) {}

    private MemoryEstimator() {}

    public static MemoryEstimate estimate(Run run) {
        ModelConfig m = run.model();
        long weights = run.baseParameters() * run.elementBytes();
        long trainable = run.trainableParameters() * TRAINABLE_BYTES;
        long sequences = (long) run.batchSize() * (run.pairs() ? 2 : 1);
        long seq = run.maxSeqLength();
        long tokens = sequences * seq;
        long perTokenPerLayer = 6L * m.hiddenSize() + 2L * m.numKvHeads() * m.headDim() + 4L * m.intermediateSize();
        long attentionPerSequencePerLayer = 2L * m.numHeads() * seq * seq;
        long oneLayer = (tokens * perTokenPerLayer + sequences * attentionPerSequencePerLayer) * run.elementBytes();
        long activations = run.gradientCheckpointing()
                ? (long) m.numLayers() * tokens * m.hiddenSize() * run.elementBytes() + oneLayer
                : m.numLayers() * oneLayer;
        long logits = 3L * tokens * m.vocabSize() * LOGIT_BYTES;
        long runtime = RUNTIME_BASELINE_MIB << 20;
        long total = weights + trainable + activations + logits + runtime;
        String breakdown = "weights " + MemoryEstimate.human(weights) + " (" + bits(run.elementBytes()) + ")"
                + " + trainable parameters with gradients and AdamW moments " + MemoryEstimate.human(trainable)
                + " + activations " + MemoryEstimate.human(activations) + " (" + sequences + " sequences × " + seq
                + " tokens" + (run.gradientCheckpointing() ? ", gradient checkpointing" : "") + ")"
                + " + logits " + MemoryEstimate.human(logits)
                + " + runtime " + MemoryEstimate.human(runtime);
        return new MemoryEstimate(total, breakdown);
    }

    private static String bits(int elementBytes) {
        return elementBytes * 8 + "-bit";
    }
}
