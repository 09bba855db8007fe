package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.model.LinearAdapter.LowRank;
import dev.finetune.trainer.script.DecoderLayerArguments;
import dev.finetune.trainer.script.Kernels;
import java.util.ArrayList;
import java.util.List;

/**
 * One pre-norm decoder block (Llama / Qwen / Mistral):
 * <pre>
 *   h   = x + o_proj(Attention(rope(q_proj(RMSNorm(x))), rope(k_proj(.)), v_proj(.)))
 *   out = h + down_proj(silu(gate_proj(RMSNorm(h))) * up_proj(RMSNorm(h)))
 * </pre>
 * Qwen3 adds a per-head RMSNorm on q and k before the rotation.
 *
 * <p>Training and evaluation run the layer as one TorchScript call ({@link Kernels#decoderLayer}): on a GPU each
 * call into libtorch is a host-side launch, and one call per layer instead of some twenty keeps the device fed.
 * Generation (a KV cache) and adapters that are not plain low-rank updates (DoRA) run kernel by kernel; both
 * paths do the same operations in the same order.
 */
public final class DecoderLayer {

    final int index;
    final NDArray inputNorm;
    final NDArray postAttentionNorm;
    final NDArray qNorm;
    final NDArray kNorm;
    final Linear q;
    final Linear k;
    final Linear v;
    final Linear o;
    final Linear gate;
    final Linear up;
    final Linear down;
    private final ModelConfig config;
    private final NDArray absent;

    DecoderLayer(int index, ModelConfig config, NDArray inputNorm, NDArray postAttentionNorm, NDArray qNorm,
            NDArray kNorm, Linear q, Linear k, Linear v, Linear o, Linear gate, Linear up, Linear down, NDArray absent) {
        this.index = index;
        this.absent = absent;
        this.config = config;
        this.inputNorm = inputNorm;
        this.postAttentionNorm = postAttentionNorm;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    public NDArray inputNormWeight() {
        return inputNorm;
    }

    public NDArray postAttentionNormWeight() {
        return postAttentionNorm;
    }

    public NDArray qNormWeight() {
        return qNorm;
    }

    public NDArray kNormWeight() {
        return kNorm;
    }

    public List<Linear> linears() {
        return List.of(q, k, v, o, gate, up, down);
    }

    /**
     * @param x hidden states [B, T, D]
     * @param cosSin rotary tables for these positions
     * @param mask boolean [B, 1, T, S] or null for plain causal attention
     * @param cache null in training; appended to in generation
     */
    public NDArray forward(NDArray x, NDArray[] cosSin, NDArray mask, KvCache cache, ForwardContext ctx) {
        DecoderLayerArguments oneCall = cache == null ? oneCallArguments() : null;
        return oneCall == null
                ? forwardKernelByKernel(x, cosSin, mask, cache, ctx)
                : ctx.kernels().decoderLayer(x, cosSin[0], cosSin[1], mask, oneCall, ctx.training());
    }

    /**
     * The layer's tensors as the one-call kernel takes them (an empty tensor for each one it lacks), or null when
     * an adapter is not a plain low-rank update.
     */
    DecoderLayerArguments oneCallArguments() {
        List<Linear> projections = linears();
        List<NDArray> weights = new ArrayList<>(List.of(inputNorm, postAttentionNorm, orAbsent(qNorm), orAbsent(kNorm)));
        List<NDArray> biases = new ArrayList<>();
        List<NDArray> loraA = new ArrayList<>();
        List<NDArray> loraB = new ArrayList<>();
        double[] scalings = new double[DecoderLayerArguments.PROJECTIONS];
        double[] dropouts = new double[DecoderLayerArguments.PROJECTIONS];
        for (int i = 0; i < DecoderLayerArguments.PROJECTIONS; i++) {
            Linear p = projections.get(i);
            LowRank update = p.adapter() == null ? LowRank.NONE : p.adapter().lowRank();
            if (update == null) {
                return null;
            }
            weights.add(p.weight());
            biases.add(orAbsent(p.effectiveBias()));
            loraA.add(orAbsent(update.a()));
            loraB.add(orAbsent(update.b()));
            scalings[i] = update.scaling();
            dropouts[i] = update.dropout();
        }
        long[] shape = {config.numHeads(), config.numKvHeads(), config.headDim()};
        return new DecoderLayerArguments(weights, biases, loraA, loraB, scalings, dropouts, shape, config.rmsNormEps());
    }

    private NDArray orAbsent(NDArray tensor) {
        return tensor == null ? absent : tensor;
    }

    /** The layer one kernel at a time (generation, DoRA); the reference the one-call kernel is tested against. */
    NDArray forwardKernelByKernel(NDArray x, NDArray[] cosSin, NDArray mask, KvCache cache, ForwardContext ctx) {
        Kernels kn = ctx.kernels();
        double eps = config.rmsNormEps();
        long batch = x.getShape().get(0);
        long len = x.getShape().get(1);
        int hd = config.headDim();

        NDArray h = kn.rmsNorm(x, inputNorm, eps);
        NDArray queries = q.forward(h, ctx).reshape(new Shape(batch, len, config.numHeads(), hd));
        NDArray keys = k.forward(h, ctx).reshape(new Shape(batch, len, config.numKvHeads(), hd));
        NDArray values = v.forward(h, ctx).reshape(new Shape(batch, len, config.numKvHeads(), hd));
        if (config.qkNorm()) {
            queries = kn.rmsNorm(queries, qNorm, eps);
            keys = kn.rmsNorm(keys, kNorm, eps);
        }
        queries = kn.applyRope(queries.swapAxes(1, 2), cosSin[0], cosSin[1]);
        keys = kn.applyRope(keys.swapAxes(1, 2), cosSin[0], cosSin[1]);
        values = values.swapAxes(1, 2);

        boolean causal = true;
        if (cache != null) {
            boolean first = cache.length() == 0;
            NDArray[] kv = cache.append(index, keys, values, kn);
            keys = kv[0];
            values = kv[1];
            // decoding one token after a prefix attends to everything cached
            causal = first;
            if (!first && len != 1) {
                throw new IllegalStateException("cached decoding takes one token at a time after the prompt");
            }
        }
        NDArray attended = mask == null
                ? kn.attention(queries, keys, values, causal)
                : kn.attention(queries, keys, values, mask);
        NDArray merged = attended.swapAxes(1, 2).reshape(new Shape(batch, len, (long) config.numHeads() * hd));
        NDArray afterAttention = x.add(o.forward(merged, ctx));

        NDArray h2 = kn.rmsNorm(afterAttention, postAttentionNorm, eps);
        NDArray mlp = down.forward(kn.swiglu(gate.forward(h2, ctx), up.forward(h2, ctx)), ctx);
        return afterAttention.add(mlp);
    }
}
