package dev.finetune.trainer.testing;

import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import java.nio.file.Path;

/**
 * A plain-Java, double-precision transcription of HF's LlamaForCausalLM / Qwen2 / Qwen3 forward
 * for one sequence, written independently of the engine code, to check the DJL forward against.
 */
public final class ReferenceForward {

    private final ModelConfig c;
    private final SafetensorsFile f;

    public ReferenceForward(Path dir) {
        this.c = ModelConfig.read(dir);
        this.f = SafetensorsFile.open(dir.resolve("model.safetensors"));
    }

    private double[] w(String name) {
        float[] v = f.readFloats(name);
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** logits [T][V] */
    public double[][] logits(long[] ids) {
        int t = ids.length;
        int d = c.hiddenSize();
        double[] embed = w("model.embed_tokens.weight");
        double[][] x = new double[t][d];
        for (int i = 0; i < t; i++) {
            System.arraycopy(embed, (int) ids[i] * d, x[i], 0, d);
        }
        int hd = c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] h = rms(x, w(p + "input_layernorm.weight"));
            double[][] q = linear(h, w(p + "self_attn.q_proj.weight"), bias(p + "self_attn.q_proj.bias"), c.queryWidth());
            double[][] k = linear(h, w(p + "self_attn.k_proj.weight"), bias(p + "self_attn.k_proj.bias"), c.kvWidth());
            double[][] v = linear(h, w(p + "self_attn.v_proj.weight"), bias(p + "self_attn.v_proj.bias"), c.kvWidth());
            if (c.qkNorm()) {
                headNorm(q, w(p + "self_attn.q_norm.weight"), c.numHeads());
                headNorm(k, w(p + "self_attn.k_norm.weight"), c.numKvHeads());
            }
            rope(q, c.numHeads());
            rope(k, c.numKvHeads());
            double[][] attn = new double[t][c.queryWidth()];
            int group = c.numHeads() / c.numKvHeads();
            for (int head = 0; head < c.numHeads(); head++) {
                int kvh = head / group;
                for (int i = 0; i < t; i++) {
                    double[] scores = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int e = 0; e < hd; e++) {
                            s += q[i][head * hd + e] * k[j][kvh * hd + e];
                        }
                        scores[j] = s / Math.sqrt(hd);
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) {
                            attn[i][head * hd + e] += scores[j] / sum * v[j][kvh * hd + e];
                        }
                    }
                }
            }
            double[][] o = linear(attn, w(p + "self_attn.o_proj.weight"), null, d);
            add(x, o);
            double[][] h2 = rms(x, w(p + "post_attention_layernorm.weight"));
            double[][] g = linear(h2, w(p + "mlp.gate_proj.weight"), null, c.intermediateSize());
            double[][] u = linear(h2, w(p + "mlp.up_proj.weight"), null, c.intermediateSize());
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < g[i].length; j++) {
                    double gv = g[i][j];
                    g[i][j] = gv / (1 + Math.exp(-gv)) * u[i][j];
                }
            }
            add(x, linear(g, w(p + "mlp.down_proj.weight"), null, d));
        }
        double[][] out = rms(x, w("model.norm.weight"));
        double[] head = c.tieWordEmbeddings() ? embed : w("lm_head.weight");
        return linear(out, head, null, c.vocabSize());
    }

    private double[] bias(String name) {
        return f.entries().containsKey(name) ? w(name) : null;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }

    private double[][] rms(double[][] x, double[] weight) {
        double[][] out = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double ss = 0;
            for (double v : x[i]) {
                ss += v * v;
            }
            double inv = 1 / Math.sqrt(ss / x[i].length + c.rmsNormEps());
            for (int j = 0; j < x[i].length; j++) {
                out[i][j] = weight[j] * x[i][j] * inv;
            }
        }
        return out;
    }

    private void headNorm(double[][] x, double[] weight, int heads) {
        int hd = c.headDim();
        for (double[] row : x) {
            for (int h = 0; h < heads; h++) {
                double ss = 0;
                for (int e = 0; e < hd; e++) {
                    ss += row[h * hd + e] * row[h * hd + e];
                }
                double inv = 1 / Math.sqrt(ss / hd + c.rmsNormEps());
                for (int e = 0; e < hd; e++) {
                    row[h * hd + e] = weight[e] * row[h * hd + e] * inv;
                }
            }
        }
    }

    /** rotate_half convention: pairs (e, e + hd/2) rotate by angle pos * theta^(-2e/hd). */
    private void rope(double[][] x, int heads) {
        int hd = c.headDim();
        int half = hd / 2;
        for (int pos = 0; pos < x.length; pos++) {
            for (int h = 0; h < heads; h++) {
                for (int e = 0; e < half; e++) {
                    double freq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * e) / hd);
                    double angle = pos * freq;
                    double a = x[pos][h * hd + e];
                    double b = x[pos][h * hd + e + half];
                    x[pos][h * hd + e] = a * Math.cos(angle) - b * Math.sin(angle);
                    x[pos][h * hd + e + half] = b * Math.cos(angle) + a * Math.sin(angle);
                }
            }
        }
    }

    private static double[][] linear(double[][] x, double[] w, double[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int j = 0; j < in; j++) {
                    s += x[i][j] * w[o * in + j];
                }
                y[i][o] = s;
            }
        }
        return y;
    }
}
