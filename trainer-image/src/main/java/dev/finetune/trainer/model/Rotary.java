package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.script.Kernels;

/**
 * Rotary position embeddings (RoFormer), HF convention: frequencies
 * {@code inv_freq[i] = 1 / theta^(2i/d)}, {@code emb = cat(freqs, freqs)}, and
 * {@code rope(x) = x cos + rotate_half(x) sin} with {@code rotate_half(x) = cat(-x2, x1)}.
 */
public final class Rotary {

    private final NDArray invFreq;
    private final double attentionScaling;

    public Rotary(ModelConfig config, Kernels kernels, NDManager manager) {
        NDArray base = kernels.ropeInvFreq(config.ropeTheta(), config.headDim());
        ModelConfig.RopeScaling scaling = config.ropeScaling();
        if (scaling == null) {
            invFreq = base;
        } else {
            float[] f = base.toFloatArray();
            base.close();
            float[] scaled = switch (scaling.type()) {
                case "linear" -> linear(f, (float) scaling.factor());
                case "llama3" -> llama3(f, scaling);
                default -> throw new ModelFormatException("rope_scaling " + scaling.type() + " is not supported");
            };
            invFreq = manager.create(scaled);
        }
        invFreq.attach(manager);
        attentionScaling = 1.0;
    }

    private static float[] linear(float[] invFreq, float factor) {
        float[] out = new float[invFreq.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = invFreq[i] / factor;
        }
        return out;
    }

    /** HF {@code _compute_llama3_parameters}, in fp32 like the reference. */
    private static float[] llama3(float[] invFreq, ModelConfig.RopeScaling s) {
        float factor = (float) s.factor();
        float low = (float) s.lowFreqFactor();
        float high = (float) s.highFreqFactor();
        float oldContext = s.originalMaxPositionEmbeddings();
        float lowFreqWavelen = oldContext / low;
        float highFreqWavelen = oldContext / high;
        float[] out = new float[invFreq.length];
        for (int i = 0; i < out.length; i++) {
            float wavelen = (float) (2 * Math.PI) / invFreq[i];
            float llama = wavelen > lowFreqWavelen ? invFreq[i] / factor : invFreq[i];
            float smooth = (oldContext / wavelen - low) / (high - low);
            float smoothed = (1 - smooth) * llama / factor + smooth * llama;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            out[i] = medium ? smoothed : llama;
        }
        return out;
    }

    /** {cos, sin} for int64 positions [B, T], in the dtype of {@code like}. */
    public NDArray[] cosSin(Kernels kernels, NDArray positions, NDArray like) {
        return kernels.ropeCosSin(invFreq, positions, attentionScaling, like);
    }

    public NDArray invFreq() {
        return invFreq;
    }
}
