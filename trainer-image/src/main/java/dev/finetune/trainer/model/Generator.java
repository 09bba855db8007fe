package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.engine.Autograd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * KV-cached autoregressive decoding: the prompt is run once (causal prefill), then one token per
 * step attends to the cache. Sampling follows HF's order: temperature, top-k, top-p, then a draw;
 * {@code temperature <= 0} means greedy.
 */
public final class Generator {

    /** @param topK 0 disables; @param topP 1 disables */
    public record Options(int maxNewTokens, double temperature, int topK, double topP, long seed) {
        public static Options greedy(int maxNewTokens) {
            return new Options(maxNewTokens, 0, 0, 1, 0);
        }
    }

    private final DecoderModel model;

    public Generator(DecoderModel model) {
        this.model = model;
    }

    /** Returns only the new tokens (stops after an end-of-sequence token, which is included). */
    public List<Long> generate(long[] prompt, Options options, Set<Long> stopTokens) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generation needs at least one prompt token");
        }
        return Autograd.withoutGrad(() -> decode(prompt, options, stopTokens));
    }

    private List<Long> decode(long[] prompt, Options options, Set<Long> stopTokens) {
        Random random = new Random(options.seed());
        List<Long> out = new ArrayList<>();
        try (NDManager scope = model.manager().newSubManager();
                KvCache cache = new KvCache(model.config().numLayers(), scope)) {
            ForwardContext ctx = ForwardContext.inference(model.kernels());
            long[] step = prompt;
            int position = 0;
            for (int i = 0; i < options.maxNewTokens(); i++) {
                try (NDManager stepScope = scope.newSubManager()) {
                    NDArray ids = stepScope.create(step, new Shape(1, step.length));
                    long[] pos = new long[step.length];
                    for (int t = 0; t < step.length; t++) {
                        pos[t] = position + t;
                    }
                    NDArray positions = stepScope.create(pos, new Shape(1, step.length));
                    NDArray hidden = model.hiddenStates(ids, positions, null, cache, ctx);
                    NDArray last = hidden.get(":, -1, :");
                    float[] logits = model.kernels().logits(last, model.lmHead()).toFloatArray();
                    position += step.length;
                    long next = pick(logits, options, random);
                    out.add(next);
                    if (stopTokens.contains(next)) {
                        break;
                    }
                    step = new long[] {next};
                }
            }
        }
        return out;
    }

    static long pick(float[] logits, Options o, Random random) {
        if (o.temperature() <= 0) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        int n = logits.length;
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) {
            scaled[i] = logits[i] / o.temperature();
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scaled[b], scaled[a]));
        int keep = o.topK() > 0 ? Math.min(o.topK(), n) : n;
        double max = scaled[order[0]];
        double[] probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            probs[i] = Math.exp(scaled[order[i]] - max);
            total += probs[i];
        }
        if (o.topP() < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += probs[i] / total;
                if (cumulative >= o.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += probs[i];
            }
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= probs[i];
            if (r <= 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
