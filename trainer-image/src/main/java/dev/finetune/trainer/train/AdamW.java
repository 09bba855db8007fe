package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.script.Kernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW} (non-fused, non-amsgrad): decoupled weight decay (not on biases)
 * {@code p *= 1 - lr wd}, then {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g^2},
 * {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}. Parameters and states are fp32.
 */
public final class AdamW {

    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPS = 1e-8;

    private final Map<String, NDArray> params;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final double weightDecay;
    private final Kernels kernels;
    private final NDManager manager;
    private long step;

    /** An optimizer with its own compiled kernels (the trainer passes the model's: {@link #AdamW(Map, double, NDManager, Kernels)}). */
    public AdamW(Map<String, NDArray> params, double weightDecay, NDManager manager) {
        this(params, weightDecay, manager, Kernels.load(manager));
    }

    public AdamW(Map<String, NDArray> params, double weightDecay, NDManager manager, Kernels kernels) {
        this.params = params;
        this.weightDecay = weightDecay;
        this.kernels = kernels;
        this.manager = manager;
        params.forEach((name, p) -> {
            m.put(name, manager.zeros(p.getShape(), DataType.FLOAT32));
            v.put(name, manager.zeros(p.getShape(), DataType.FLOAT32));
        });
    }

    /** Applies one update with the gradients currently stored on the parameters. */
    public void step(Map<String, NDArray> gradients, double lr) {
        step(gradients, lr, 1.0);
    }

    /**
     * Applies one update with {@code gradients} multiplied by {@code gradScale} (clipping and loss-scale
     * unscaling, folded into the update). All parameters go through one kernel call, two when weight decay
     * applies to some (as HF Trainer: never to biases); each tensor's arithmetic is the same either way.
     */
    public void step(Map<String, NDArray> gradients, double lr, double gradScale) {
        try (NDArray scale = manager.create(gradScale)) {
            update(gradients, lr, scale);
        }
    }

    /** {@link #step(Map, double, double)} with the factor as an fp64 scalar where the gradients are (not read). */
    public void step(Map<String, NDArray> gradients, double lr, NDArray gradScale) {
        update(gradients, lr, gradScale);
    }

    /**
     * {@link #step(Map, double, NDArray)} with the gradients libtorch stored on the parameters, read inside the
     * kernel (they never cross into Java).
     */
    public void stepOnStoredGradients(double lr, NDArray gradScale) {
        update(null, lr, gradScale);
    }

    /** {@code gradients} null: the parameters' stored gradients. */
    private void update(Map<String, NDArray> gradients, double lr, NDArray gradScale) {
        step++;
        double bc1 = 1 - Math.pow(BETA1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(BETA2, step));
        List<String> decayed = new ArrayList<>();
        List<String> plain = new ArrayList<>();
        for (String name : params.keySet()) {
            (weightDecay != 0 && !name.endsWith("bias") ? decayed : plain).add(name);
        }
        Autograd.withoutGrad(() -> {
            update(decayed, gradients, gradScale, 1 - lr * weightDecay, bc2Sqrt, lr / bc1);
            update(plain, gradients, gradScale, 1.0, bc2Sqrt, lr / bc1);
        });
    }

    private void update(List<String> names, Map<String, NDArray> gradients, NDArray gradScale, double decay,
            double bc2Sqrt, double stepSize) {
        List<NDArray> p = new ArrayList<>();
        List<NDArray> mi = new ArrayList<>();
        List<NDArray> vi = new ArrayList<>();
        for (String name : names) {
            p.add(params.get(name));
            mi.add(m.get(name));
            vi.add(v.get(name));
        }
        if (gradients == null) {
            kernels.adamwStepOnStoredGradients(p, mi, vi, gradScale, decay, BETA1, BETA2, bc2Sqrt, EPS, stepSize);
        } else {
            List<NDArray> g = names.stream().map(gradients::get).toList();
            kernels.adamwStep(p, g, mi, vi, gradScale, decay, BETA1, BETA2, bc2Sqrt, EPS, stepSize);
        }
    }

    public long stepCount() {
        return step;
    }

    public Map<String, NDArray> firstMoments() {
        return m;
    }

    public Map<String, NDArray> secondMoments() {
        return v;
    }

    /** Restores state saved by a checkpoint. */
    public void restore(long stepCount, Map<String, float[]> firstMoments, Map<String, float[]> secondMoments) {
        this.step = stepCount;
        Autograd.withoutGrad(() -> {
            copy(firstMoments, m);
            copy(secondMoments, v);
        });
    }

    private static void copy(Map<String, float[]> from, Map<String, NDArray> to) {
        to.forEach((name, arr) -> {
            float[] values = from.get(name);
            if (values == null || values.length != arr.size()) {
                throw new IllegalArgumentException("optimizer state for " + name + " is missing or has the wrong size");
            }
            try (NDManager tmp = arr.getManager().newSubManager()) {
                // index-put into the moment's own fp32 storage (NDArray.set(Buffer) prints libtorch's
                // AutoNonVariableTypeMode deprecation warning)
                arr.set(new NDIndex(":"), tmp.create(values, arr.getShape()));
            }
        });
    }
}
