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
 * The train losses (NLL sums) of the optimizer steps not read yet. On a GPU every read of a tensor value into
 * Java waits for the device, so a step's loss stays where it was computed, an fp64 scalar, and the loop reads
 * the unread steps together: one host read, and one all-reduce of the per-step sums when data-parallel.
 *
 * <p>Rules. The figures are those a read per step gives, bit for bit: each step's value is its own fp64 sum (on
 * the device, in the order the host would add), the all-reduce sums each step over the ranks in rank order as a
 * per-step all-reduce does, and {@link #read()} hands the steps back in order for the caller to add. A
 * non-finite loss fails the run with {@code NAN_LOSS} naming the first unread step whose loss (over all ranks)
 * is non-finite, with its epoch and first micro-batch: each step keeps its own value until the read, so the
 * step is located exactly however late it is detected.
 */
final class StepLosses {

    /** Where a step's loss came from, for the failure message; exactly one of the two values is used. */
    private record Unread(long step, int epoch, int firstBatch, NDArray onDevice, double onHost) {}

    private final NDManager parent;
    private final Collective collective;
    private final List<Unread> unread = new ArrayList<>();
    private NDManager held;

    /**
     * @param parent the manager the unread losses are kept under (a sub-manager of it, closed at each read)
     * @param collective the ranks whose losses are summed at each read; every rank must add and read the same steps
     */
    StepLosses(NDManager parent, Collective collective) {
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
     * The loss of 1-based {@code step} (epoch and first micro-batch 0-based, as the loop counts), an fp64 scalar
     * attached to {@link #manager()}.
     */
    void addOnDevice(long step, int epoch, int firstBatch, NDArray nll) {
        nll.attach(manager());
        unread.add(new Unread(step, epoch, firstBatch, nll, 0));
    }

    /** A loss already on the host (a step without label tokens on this rank, the preference losses). */
    void addOnHost(long step, int epoch, int firstBatch, double nll) {
        unread.add(new Unread(step, epoch, firstBatch, null, nll));
    }

    /** Steps added since the last read. */
    int size() {
        return unread.size();
    }

    /**
     * The unread steps' losses in step order (summed over all ranks), and the steps are then read. Collective:
     * every rank calls it at the same step.
     *
     * @throws TrainingException NAN_LOSS at the first step whose loss is non-finite
     */
    double[] read() {
        List<Unread> steps = List.copyOf(unread);
        unread.clear();
        double[] values = new double[steps.size()];
        try {
            List<NDArray> tensors = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                values[i] = steps.get(i).onHost();
                if (steps.get(i).onDevice() != null) {
                    tensors.add(steps.get(i).onDevice());
                }
            }
            if (!tensors.isEmpty()) {
                // one host read for all of them: stacked on the device into one vector
                double[] read = tensors.size() == 1 ? new double[] {tensors.getFirst().getDouble()}
                        : NDArrays.stack(new NDList(tensors)).toDoubleArray();
                int next = 0;
                for (int i = 0; i < steps.size(); i++) {
                    if (steps.get(i).onDevice() != null) {
                        values[i] = read[next++];
                    }
                }
            }
        } finally {
            if (held != null) {
                held.close();
                held = null;
            }
        }
        if (collective.worldSize() > 1 && values.length > 0) {
            values = collective.allReduceSum(values);
        }
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                Unread s = steps.get(i);
                throw new TrainingException(FailureReason.NAN_LOSS, "train loss is " + values[i] + " at step " + s.step()
                        + " (epoch " + (s.epoch() + 1) + ", micro-batch " + s.firstBatch() + ")");
            }
        }
        return values;
    }
}
