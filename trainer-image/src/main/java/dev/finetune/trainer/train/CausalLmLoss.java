package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.script.Kernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Next-token cross-entropy that never materialises logits for positions without a label: rows whose
 * shifted label is -100 are dropped before the lm head, and the remaining rows go through the lm head
 * in chunks. For training the gradient of each chunk ({@code softmax - onehot}) is computed right away
 * and only {@code dL/dhidden} is kept, so peak memory is one chunk of logits, not {@code T x vocab}.
 * Logits are fp32 (HF upcasts before the loss); sums are accumulated in fp64.
 */
public final class CausalLmLoss {

    /** Target rows (flattened index into [B*T]) and target token ids. */
    public record Targets(long[] rows, long[] tokens) {
        public int size() {
            return rows.length;
        }
    }

    private final Kernels kernels;
    private final NDArray lmHead;
    private final int chunkRows;

    public CausalLmLoss(Kernels kernels, NDArray lmHead, long vocabSize) {
        this.kernels = kernels;
        this.lmHead = lmHead;
        // ~64 MiB of fp32 logits per chunk
        this.chunkRows = (int) Math.max(1, Math.min(4096, (16L << 20) / Math.max(1, vocabSize)));
    }

    public static Targets targets(Batch batch) {
        int len = batch.length();
        int[] labels = batch.labels();
        List<Long> rows = new ArrayList<>();
        List<Long> tokens = new ArrayList<>();
        for (int r = 0; r < batch.rows(); r++) {
            for (int t = 0; t + 1 < len; t++) {
                int label = labels[r * len + t + 1];
                if (label != Labels.IGNORE) {
                    rows.add((long) r * len + t);
                    tokens.add((long) label);
                }
            }
        }
        return new Targets(rows.stream().mapToLong(Long::longValue).toArray(),
                tokens.stream().mapToLong(Long::longValue).toArray());
    }

    /** Sum of token NLL over the targets (no gradients). */
    public double nllSum(NDArray hidden, Targets targets) {
        if (targets.size() == 0) {
            return 0;
        }
        return Autograd.withoutGrad(() -> {
            try (NDManager scope = hidden.getManager().newSubManager()) {
                NDArray selected = kernels.selectRows(hidden, scope.create(targets.rows()));
                NDArray ids = scope.create(targets.tokens());
                double sum = 0;
                for (int start = 0; start < targets.size(); start += chunkRows) {
                    int end = Math.min(targets.size(), start + chunkRows);
                    NDArray h = selected.get(start + ":" + end);
                    NDArray nll = kernels.nllSum(h, lmHead, ids.get(start + ":" + end));
                    sum += nll.getDouble();
                }
                return sum;
            }
        });
    }

    /**
     * Back-propagates {@code sum_i weights[i] * NLL_i} over the targets (each target token its own weight, e.g.
     * the weight of its sequence in a preference loss) from {@code hidden}, which must carry the autograd graph;
     * returns the unweighted sum of NLL.
     */
    public double backward(NDArray hidden, Targets targets, double[] weights) {
        if (weights.length != targets.size()) {
            throw new IllegalArgumentException(weights.length + " weights for " + targets.size() + " targets");
        }
        float[] w = new float[weights.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) weights[i];
        }
        if (targets.size() == 0) {
            return 0;
        }
        try (NDArray sum = backward(hidden, targets, 1.0, (scope, start, end, grad) -> {
            NDArray column = scope.create(Arrays.copyOfRange(w, start, end)).reshape(-1, 1);
            // weighted in fp32, then back to the activations' dtype (NDArray.toType aborts on bf16)
            return kernels.cast(kernels.cast(grad, DataType.FLOAT32).mul(column), kernels.dtypeOf(grad));
        })) {
            return sum.getDouble();
        }
    }

    /**
     * Back-propagates {@code gradScale * sum NLL} from {@code hidden} (which must carry the autograd
     * graph) and returns the unscaled sum of NLL.
     */
    public double backward(NDArray hidden, Targets targets, double gradScale) {
        if (targets.size() == 0) {
            return 0;
        }
        try (NDArray sum = backwardOnDevice(hidden, targets, gradScale)) {
            return sum.getDouble();
        }
    }

    /**
     * {@link #backward(NDArray, Targets, double)} without reading the loss: the unscaled sum of NLL stays where it
     * was computed, an fp64 scalar attached to {@code hidden}'s manager (on a GPU a read waits for the device). The
     * chunks' sums are added on the device in chunk order: the fp64 additions the host would make, so reading it
     * gives the same double. {@code targets} must not be empty.
     */
    public NDArray backwardOnDevice(NDArray hidden, Targets targets, double gradScale) {
        return backward(hidden, targets, gradScale, (scope, start, end, grad) -> grad);
    }

    /** What becomes of the gradient of one chunk of target rows {@code [start, end)} before back-propagation. */
    @FunctionalInterface
    private interface ChunkGradient {
        NDArray apply(NDManager scope, int start, int end, NDArray grad);
    }

    /** The fp64 sum of NLL over the (non-empty) targets, on the device, attached to {@code hidden}'s manager. */
    private NDArray backward(NDArray hidden, Targets targets, double gradScale, ChunkGradient chunkGradient) {
        if (targets.size() == 0) {
            throw new IllegalArgumentException("no targets to back-propagate from");
        }
        try (NDManager scope = hidden.getManager().newSubManager()) {
            // the rows are selected on the graph; the loss and its gradient are computed beside it
            return Autograd.withoutGrad(() -> {
                NDArray selected = Autograd.withGrad(() -> kernels.selectRows(hidden, scope.create(targets.rows())));
                NDArray sum = null;
                List<NDArray> grads = new ArrayList<>();
                NDArray ids = scope.create(targets.tokens());
                for (int start = 0; start < targets.size(); start += chunkRows) {
                    int end = Math.min(targets.size(), start + chunkRows);
                    NDArray[] out = kernels.nllSumAndGrad(selected.get(start + ":" + end), lmHead,
                            ids.get(start + ":" + end), gradScale);
                    out[0].attach(scope);
                    sum = sum == null ? out[0] : sum.add(out[0]);
                    grads.add(chunkGradient.apply(scope, start, end, out[1]));
                }
                NDArray dSelected = grads.size() == 1 ? grads.getFirst() : kernels.catRows(grads);
                Autograd.backward(selected, dSelected);
                sum.attach(hidden.getManager());
                return sum;
            });
        }
    }
}
