package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import java.util.function.Function;

/**
 * The backward pass through the decoder, plain or with gradient checkpointing ({@code training.gradientCheckpointing}),
 * for any loss on the final hidden states: the SFT loss and the preference losses share it.
 *
 * <p>A head receives the final hidden states, carrying the autograd graph, and must back-propagate from them
 * (e.g. {@link CausalLmLoss#backward}); what it returns is handed back. Plainly the whole forward keeps its
 * graph. With checkpointing the layers run without a graph keeping only each layer's input; after the head,
 * each layer is recomputed with a graph (same dropout seed), the incoming gradient is back-propagated through
 * it, and its input gradient is handed to the layer below.
 */
public final class Backprop {

    private final DecoderModel model;
    private final boolean checkpointing;

    public Backprop(DecoderModel model, boolean checkpointing) {
        this.model = model;
        this.checkpointing = checkpointing;
    }

    public <T> T run(BatchTensors t, ForwardContext ctx, Function<NDArray, T> head) {
        if (!checkpointing) {
            NDArray hidden = Autograd.withGrad(() -> model.hiddenStates(t.ids(), t.positions(), t.mask(), null, ctx));
            return head.apply(hidden);
        }
        Autograd.disable();
        NDArray mask = t.mask();
        NDArray x = model.embed(t.ids());
        NDArray[] cosSin = model.cosSin(t.positions(), x);
        int layers = model.layers().size();
        NDArray[] inputs = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            inputs[l] = x;
            ctx.seedLayer(l);
            x = model.layerForward(l, x, cosSin, mask, null, ctx);
        }
        NDArray top = Autograd.leaf(x);
        NDArray hidden = Autograd.withGrad(() -> model.norm(top));
        T result = head.apply(hidden);
        NDArray upstream = top.getGradient();
        NDManager outer = t.ids().getManager();
        for (int l = layers - 1; l >= 0; l--) {
            // everything of this layer's recomputation is freed before the next layer down is recomputed
            try (NDManager layerScope = outer.newSubManager()) {
                NDArray in = Autograd.leaf(inputs[l]);
                in.attach(layerScope);
                int layer = l;
                NDArray out = Autograd.withGrad(() -> {
                    ctx.seedLayer(layer);
                    return model.layers().get(layer).forward(in, cosSin, mask, null, ctx);
                });
                Autograd.backward(out, upstream);
                upstream.close();
                inputs[l].close();
                if (l > 0) {
                    upstream = in.getGradient();
                    upstream.attach(outer);
                }
            }
        }
        return result;
    }
}
