package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.engine.Autograd;
import java.util.LinkedHashMap;
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
    private long step;

    public AdamW(Map<String, NDArray> params, double weightDecay, NDManager manager) {
        this.params = params;
        this.weightDecay = weightDecay;
        params.forEach((name, p) -> {
            m.put(name, manager.zeros(p.getShape(), DataType.FLOAT32));
            v.put(name, manager.zeros(p.getShape(), DataType.FLOAT32));
        });
    }

    /** Applies one update with the gradients currently stored on the parameters. */
    public void step(Map<String, NDArray> gradients, double lr) {
        step++;
        double bc1 = 1 - Math.pow(BETA1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(BETA2, step));
        Autograd.withoutGrad(() -> {
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                String name = e.getKey();
                NDArray p = e.getValue();
                NDArray g = gradients.get(name);
                // as HF Trainer: no weight decay on biases
                if (weightDecay != 0 && !name.endsWith("bias")) {
                    p.muli(1 - lr * weightDecay);
                }
                NDArray mi = m.get(name);
                NDArray vi = v.get(name);
                mi.muli(BETA1).addi(g.mul(1 - BETA1));
                vi.muli(BETA2).addi(g.mul(g).muli(1 - BETA2));
                try (NDArray denom = vi.sqrt().divi(bc2Sqrt).addi(EPS);
                        NDArray update = mi.div(denom).muli(lr / bc1)) {
                    p.subi(update);
                }
            }
        });
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
