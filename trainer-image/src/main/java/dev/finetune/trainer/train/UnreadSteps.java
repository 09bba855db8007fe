package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.dist.Collective;
import java.util.ArrayList;
import java.util.List;

/**
 * The train losses (NLL sums) and gradient norms of the optimizer steps not read yet. On a GPU every read of a
 * tensor value into Java waits for the device, so a step's figures stay where they were computed, fp64 scalars,
 * and the loop reads the unread steps together: one host read, and one all-reduce of the per-step loss sums when
 * data-parallel.
 *
 * <p>Rules. The figures are those a read per step gives, bit for bit: each step's loss is its own fp64 sum (on
 * the device, in the order the host would add), the all-reduce sums each step over the ranks in rank order as a
 * per-step all-reduce does, and {@link #read()} hands the steps back in order for the caller to add. Gradient
 * norms are of the all-reduced gradients already, so they are not reduced again. A run fails with
 * {@code NAN_LOSS} at the first unread step whose loss (over all ranks) is non-finite, or whose norm computed on
 * the device is, naming the step with its epoch and first micro-batch; within a step the loss is checked first.
 * Each step keeps its own values until the read, so the step is located exactly however late it is detected.
 * A norm recorded from the host was judged by its step already (fp16 loss scaling skips such steps).
 */
final class UnreadSteps {

    /** One step's figures, each either on the device (tensor) or already on the host. */
    private static final class Unread {
        final long step;
        final int epoch;
        final int firstBatch;
        NDArray nll;
        double nllOnHost;
        NDArray norm;
        double normOnHost;

        Unread(long step, int epoch, int firstBatch) {
            this.step = step;
            this.epoch = epoch;
            this.firstBatch = firstBatch;
        }
    }

    private final NDManager parent;
    private final Collective collective;
    private final List<Unread> unread = new ArrayList<>();
    private NDManager held;
    private double latestGradientNorm;

    /**
     * @param parent the manager the unread figures are kept under (a sub-manager of it, closed at each read)
     * @param collective the ranks whose losses are summed at each read; every rank must add and read the same steps
     */
    UnreadSteps(NDManager parent, Collective collective) {
        this.parent = parent;
        this.collective = collective;
    }

    /** Where to attach a loss tensor before its step's scope closes; it is freed at the next read. */
    NDManager manager() {
        if (held == null) {
            held = parent.newSubManager();
        }
        return held;
    }

    /**
     * Adds 1-based {@code step} (epoch and first micro-batch 0-based, as the loop counts) with its loss, an fp64
     * scalar attached to {@link #manager()}.
     */
    void addOnDevice(long step, int epoch, int firstBatch, NDArray nll) {
        nll.attach(manager());
        Unread s = new Unread(step, epoch, firstBatch);
        s.nll = nll;
        unread.add(s);
    }

    /** Adds a step whose loss is on the host already (no label tokens on this rank, the preference losses). */
    void addOnHost(long step, int epoch, int firstBatch, double nll) {
        Unread s = new Unread(step, epoch, firstBatch);
        s.nllOnHost = nll;
        unread.add(s);
    }

    /** The gradient norm of the step added last, an fp64 scalar on the device; checked at the read. */
    void gradientNorm(NDArray norm) {
        norm.attach(manager());
        unread.getLast().norm = norm;
    }

    /** The gradient norm of the step added last, read by the step itself (no check at the read). */
    void gradientNorm(double norm) {
        unread.getLast().normOnHost = norm;
    }

    /** Steps added since the last read. */
    int size() {
        return unread.size();
    }

    /** The gradient norm of the latest step read (0 before any). */
    double latestGradientNorm() {
        return latestGradientNorm;
    }

    /**
     * The unread steps' losses in step order (summed over all ranks), and the steps are then read. Collective:
     * every rank calls it at the same step.
     *
     * @throws TrainingException NAN_LOSS at the first step whose loss, or device-computed gradient norm, is
     *     non-finite
     */
    double[] read() {
        List<Unread> steps = List.copyOf(unread);
        unread.clear();
        double[] losses = new double[steps.size()];
        double[] norms = new double[steps.size()];
        try {
            List<NDArray> tensors = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                Unread s = steps.get(i);
                losses[i] = s.nllOnHost;
                norms[i] = s.normOnHost;
                if (s.nll != null) {
                    tensors.add(s.nll);
                }
                if (s.norm != null) {
                    tensors.add(s.norm);
                }
            }
            if (!tensors.isEmpty()) {
                // one host read for all of them: stacked on the device into one vector
                double[] read = tensors.size() == 1 ? new double[] {tensors.getFirst().getDouble()}
                        : NDArrays.stack(new NDList(tensors)).toDoubleArray();
                int next = 0;
                for (int i = 0; i < steps.size(); i++) {
                    if (steps.get(i).nll != null) {
                        losses[i] = read[next++];
                    }
                    if (steps.get(i).norm != null) {
                        norms[i] = read[next++];
                    }
                }
            }
        } finally {
            if (held != null) {
                held.close();
                held = null;
            }
        }
        if (collective.worldSize() > 1 && losses.length > 0) {
            losses = collective.allReduceSum(losses);
        }
        for (int i = 0; i < losses.length; i++) {
            Unread s = steps.get(i);
            String where = " at step " + s.step + " (epoch " + (s.epoch + 1) + ", micro-batch " + s.firstBatch + ")";
            if (!Double.isFinite(losses[i])) {
                throw new TrainingException(FailureReason.NAN_LOSS, "train loss is " + losses[i] + where);
            }
            if (s.norm != null && !Double.isFinite(norms[i])) {
                throw new TrainingException(FailureReason.NAN_LOSS, "gradient norm is " + norms[i] + where);
            }
        }
        if (norms.length > 0) {
            latestGradientNorm = norms[norms.length - 1];
        }
        return losses;
    }
}
