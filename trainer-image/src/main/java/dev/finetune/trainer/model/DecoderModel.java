package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.script.Kernels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A decoder-only transformer loaded from a Hugging Face directory:
 * {@code logits = lm_head(RMSNorm(layers(embed(ids))))}. Base weights are frozen: they never get
 * {@code requires_grad}. The compute dtype is fp32, bf16 or fp16; fp32 parts (RMSNorm statistics,
 * rotary tables, logits for the loss) follow HF.
 */
public final class DecoderModel implements AutoCloseable {

    private final ModelConfig config;
    private final DataType dtype;
    private final NDManager manager;
    private final Kernels kernels;
    private final NDArray embedTokens;
    private final List<DecoderLayer> layers;
    private final NDArray finalNorm;
    private final NDArray lmHead;
    private final Rotary rotary;
    private final Path directory;

    private DecoderModel(Path directory, ModelConfig config, DataType dtype, NDManager manager, Kernels kernels,
            NDArray embedTokens, List<DecoderLayer> layers, NDArray finalNorm, NDArray lmHead) {
        this.directory = directory;
        this.config = config;
        this.dtype = dtype;
        this.manager = manager;
        this.kernels = kernels;
        this.embedTokens = embedTokens;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rotary = new Rotary(config, kernels, manager);
    }

    /**
     * Loads config.json and the safetensors weights of {@code dir} in {@code dtype}. Every expected
     * tensor must be present with the shape config.json implies; unexpected extra tensors are errors
     * too (they usually mean a different architecture).
     */
    public static DecoderModel load(Path dir, DataType dtype, NDManager parent, Kernels kernels) {
        ModelConfig c = ModelConfig.read(dir);
        NDManager manager = parent.newSubManager();
        try (WeightStore store = WeightStore.open(dir)) {
            Set<String> used = new TreeSet<>();
            Loader load = (name, shape) -> {
                used.add(name);
                return store.load(name, shape, dtype, manager, kernels);
            };
            long d = c.hiddenSize();
            NDArray embed = load.get("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
            NDArray absent = manager.zeros(new Shape(0));
            List<DecoderLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.numLayers(); i++) {
                String p = "model.layers." + i + ".";
                Linear q = linear(load, p + "self_attn.q_proj", c.queryWidth(), d, c.attentionBias());
                Linear k = linear(load, p + "self_attn.k_proj", c.kvWidth(), d, c.attentionBias());
                Linear v = linear(load, p + "self_attn.v_proj", c.kvWidth(), d, c.attentionBias());
                Linear o = linear(load, p + "self_attn.o_proj", d, c.queryWidth(), c.outputProjectionBias());
                Linear gate = linear(load, p + "mlp.gate_proj", c.intermediateSize(), d, c.mlpBias());
                Linear up = linear(load, p + "mlp.up_proj", c.intermediateSize(), d, c.mlpBias());
                Linear down = linear(load, p + "mlp.down_proj", d, c.intermediateSize(), c.mlpBias());
                NDArray qNorm = c.qkNorm() ? load.get(p + "self_attn.q_norm.weight", new long[] {c.headDim()}) : null;
                NDArray kNorm = c.qkNorm() ? load.get(p + "self_attn.k_norm.weight", new long[] {c.headDim()}) : null;
                layers.add(new DecoderLayer(i, c,
                        load.get(p + "input_layernorm.weight", new long[] {d}),
                        load.get(p + "post_attention_layernorm.weight", new long[] {d}),
                        qNorm, kNorm, q, k, v, o, gate, up, down, absent));
            }
            NDArray norm = load.get("model.norm.weight", new long[] {d});
            NDArray head;
            if (c.tieWordEmbeddings()) {
                head = embed;
                used.add("lm_head.weight"); // some exporters still write it; tied means it equals the embedding
            } else {
                if (!store.contains("lm_head.weight")) {
                    throw new ModelFormatException("model directory " + dir + " has no tensor \"lm_head.weight\" and "
                            + "config.json says tie_word_embeddings=false");
                }
                head = load.get("lm_head.weight", new long[] {c.vocabSize(), d});
            }
            List<String> unexpected = store.names().stream()
                    .filter(n -> !used.contains(n) && !n.endsWith("rotary_emb.inv_freq"))
                    .toList();
            if (!unexpected.isEmpty()) {
                throw new ModelFormatException("model directory " + dir + " has tensors this " + c.modelType()
                        + " config does not use, e.g. \"" + unexpected.getFirst() + "\" (" + unexpected.size()
                        + " in total); is config.json from the same model?");
            }
            return new DecoderModel(dir, c, dtype, manager, kernels, embed, Collections.unmodifiableList(layers), norm, head);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @FunctionalInterface
    private interface Loader {
        NDArray get(String name, long[] shape);
    }

    private static Linear linear(Loader load, String path, long out, long in, boolean bias) {
        NDArray w = load.get(path + ".weight", new long[] {out, in});
        NDArray b = bias ? load.get(path + ".bias", new long[] {out}) : null;
        return new Linear(path, w, b);
    }

    /**
     * Final hidden states (after the last RMSNorm), [B, T, D].
     *
     * @param ids int64 [B, T]
     * @param positions int64 [B, T] (restart at 0 for each packed sequence)
     * @param mask boolean [B, 1, T, S] or null for plain causal attention
     */
    public NDArray hiddenStates(NDArray ids, NDArray positions, NDArray mask, KvCache cache, ForwardContext ctx) {
        NDArray x = embed(ids);
        NDArray[] cosSin = rotary.cosSin(kernels, positions, x);
        NDArray windowMask = slidingMask(ids, mask, cache);
        for (DecoderLayer layer : layers) {
            ctx.seedLayer(layer.index);
            NDArray layerMask = windowMask != null && config.slidingLayer(layer.index) ? windowMask : mask;
            x = layerForward(layer.index, x, cosSin, layerMask, cache, ctx);
        }
        return norm(x);
    }

    /**
     * The sliding-window mask when the keys reach further back than the window, else null: query i
     * (absolute position past + i) may attend key j when {@code j <= past + i} and
     * {@code past + i - j < window}, and, for packed rows, both lie in the same sequence.
     */
    NDArray slidingMask(NDArray ids, NDArray packed, KvCache cache) {
        Integer window = config.slidingWindow();
        if (window == null) {
            return null;
        }
        long length = ids.getShape().get(1);
        long past = cache == null ? 0 : cache.length();
        long keys = past + length;
        if (keys <= window) {
            return null;
        }
        NDManager m = ids.getManager();
        NDArray q = m.arange(past, past + length, 1, ai.djl.ndarray.types.DataType.INT64).expandDims(1);
        NDArray k = m.arange(0, keys, 1, ai.djl.ndarray.types.DataType.INT64).expandDims(0);
        NDArray allowed = q.gte(k).logicalAnd(q.sub(k).lt(window)).expandDims(0).expandDims(0);
        return packed == null ? allowed : packed.logicalAnd(allowed);
    }

    /**
     * One layer, with its intermediate tensors owned by a scope that is closed when the layer returns:
     * only the output stays referenced from Java. Autograd keeps what the backward needs by itself, so
     * this frees the rest at once (without it every layer's intermediates would live until the end of
     * the micro-batch, which also defeats gradient checkpointing).
     */
    public NDArray layerForward(int layer, NDArray x, NDArray[] cosSin, NDArray mask, KvCache cache, ForwardContext ctx) {
        NDManager outer = x.getManager();
        try (NDManager layerScope = outer.newSubManager()) {
            x.tempAttach(layerScope);
            NDArray out = layers.get(layer).forward(x, cosSin, mask, cache, ctx);
            out.attach(outer);
            return out;
        }
    }

    public NDArray embed(NDArray ids) {
        return kernels.embedding(embedTokens, ids);
    }

    public NDArray norm(NDArray x) {
        return kernels.rmsNorm(x, finalNorm, config.rmsNormEps());
    }

    public NDArray[] cosSin(NDArray positions, NDArray like) {
        return rotary.cosSin(kernels, positions, like);
    }

    /** fp32 logits [B, T, V] (for tests and generation; training uses the chunked loss). */
    public NDArray logits(NDArray ids, NDArray positions) {
        return kernels.logits(hiddenStates(ids, positions, null, null, ForwardContext.inference(kernels)), lmHead);
    }

    /**
     * Block-diagonal causal mask for packed rows: token i may attend to j when j <= i and both belong
     * to the same segment. Returns boolean [B, 1, T, T].
     */
    public static NDArray packedMask(NDManager manager, long[] segmentIds, int rows, int length) {
        NDArray seg = manager.create(segmentIds, new Shape(rows, length));
        NDArray idx = manager.arange(length);
        NDArray causal = idx.expandDims(1).gte(idx.expandDims(0));
        NDArray same = seg.expandDims(2).eq(seg.expandDims(1));
        return same.logicalAnd(causal.expandDims(0)).expandDims(1);
    }

    public ModelConfig config() {
        return config;
    }

    public DataType dtype() {
        return dtype;
    }

    public Kernels kernels() {
        return kernels;
    }

    public List<DecoderLayer> layers() {
        return layers;
    }

    public NDArray lmHead() {
        return lmHead;
    }

    public NDArray embedTokens() {
        return embedTokens;
    }

    public NDArray finalNorm() {
        return finalNorm;
    }

    public NDManager manager() {
        return manager;
    }

    public Path directory() {
        return directory;
    }

    /** All frozen linear layers, in HF module order. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        layers.forEach(l -> all.addAll(l.linears()));
        return all;
    }

    /** Number of base-model parameters (tied embeddings counted once, as PEFT does). */
    public long parameterCount() {
        long n = embedTokens.size() + finalNorm.size();
        if (lmHead != embedTokens) {
            n += lmHead.size();
        }
        for (DecoderLayer l : layers) {
            n += l.inputNorm.size() + l.postAttentionNorm.size();
            if (l.qNorm != null) {
                n += l.qNorm.size() + l.kNorm.size();
            }
            for (Linear lin : l.linears()) {
                n += lin.weight().size() + (lin.bias() == null ? 0 : lin.bias().size());
            }
        }
        return n;
    }

    @Override
    public void close() {
        manager.close();
    }
}
