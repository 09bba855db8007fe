package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.testing.Engine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The optimizer step, the gradient norm and the zeroing on the gradients libtorch stored on the parameters
 * (read inside the kernels) equal the same on gradients handed over from Java, bit for bit.
 */
class StoredGradientsTest {

    private static final float[][] INITIAL = {{1.0f, -2.0f, 0.5f}, {0.25f, 3.0f}};
    private static final float[][] COEFFICIENTS = {{0.5f, -1.0f, 2.0f}, {0.125f, -0.75f}};

    @Test
    void theClippingFactorOnTheDeviceIsTheHostFormulaBitForBit() {
        Kernels kernels = Engine.kernels();
        try (NDManager m = Engine.manager().newSubManager()) {
            double[][] cases = { // squared norm, max norm, loss scale
                {25.0, 1.0, 1.0}, {0.04, 1.0, 1.0}, {1e6, 0.3, 65536.0}, {3.0, 0.0, 8.0}, {Double.NaN, 1.0, 1.0},
                {Double.POSITIVE_INFINITY, 1.0, 2.0}, {Math.PI, Math.E, 3.0},
            };
            for (double[] c : cases) {
                GradientClipping.OnDevice clip = GradientClipping.OnDevice.of(m.create(c[0]), c[1], c[2], kernels);
                double norm = Math.sqrt(c[0]) / c[2];
                assertSame(clip.norm().getDouble(), norm, "norm of " + java.util.Arrays.toString(c));
                assertSame(clip.factor().getDouble(), GradientClipping.coefficient(norm, c[1]) / c[2],
                        "factor of " + java.util.Arrays.toString(c));
            }
        }
    }

    /** Equal doubles, NaN equal to NaN. */
    private static void assertSame(double actual, double expected, String what) {
        if (Double.isNaN(expected)) {
            assertThat(actual).as(what).isNaN();
        } else {
            assertThat(actual).as(what).isEqualTo(expected);
        }
    }

    @Test
    void aParameterNoBackwardReachedHasNoStoredGradient() {
        try (NDManager m = Engine.manager().newSubManager()) {
            Map<String, NDArray> params = parameters(m);
            NDArray unused = m.create(new float[] {1f});
            unused.setRequiresGradient(true);
            assertThat(Autograd.hasStoredGradient(params.get("w.weight"))).isFalse();
            backward(params, m, 1);
            assertThat(Autograd.hasStoredGradient(params.get("w.weight"))).isTrue();
            assertThat(Autograd.hasStoredGradient(unused)).isFalse();
        }
    }

    @Test
    void storedGradientsGiveTheSameNormUpdateAndZeroing() {
        Kernels kernels = Engine.kernels();
        try (NDManager m = Engine.manager().newSubManager()) {
            Map<String, NDArray> stored = parameters(m);
            Map<String, NDArray> handed = parameters(m);
            AdamW storedAdam = new AdamW(stored, 0.1, m, kernels);
            AdamW handedAdam = new AdamW(handed, 0.1, m, kernels);
            for (int step = 1; step <= 3; step++) {
                backward(stored, m, step);
                backward(handed, m, step);
                Map<String, NDArray> grads = new LinkedHashMap<>();
                handed.forEach((name, p) -> grads.put(name, p.getGradient()));
                assertThat(stored.values()).allMatch(Autograd::hasStoredGradient);

                double lossScale = step == 2 ? 1024 : 1;
                GradientClipping.OnDevice clip = GradientClipping.OnDevice.of(
                        kernels.storedGradientSquaredSumOnDevice(List.copyOf(stored.values())), 1.0, lossScale, kernels);
                double handedNorm = Math.sqrt(kernels.squaredSumOnDevice(List.copyOf(grads.values())).getDouble())
                        / lossScale;
                assertThat(clip.norm().getDouble()).isEqualTo(handedNorm).isPositive();
                double coef = GradientClipping.coefficient(handedNorm, 1.0) / lossScale;
                assertThat(clip.factor().getDouble()).isEqualTo(coef);
                if (lossScale == 1) {
                    assertThat(coef).as("clipping applies").isLessThan(1.0);
                }

                storedAdam.stepOnStoredGradients(0.05, clip.factor());
                handedAdam.step(grads, 0.05, coef);
                for (String name : stored.keySet()) {
                    assertThat(stored.get(name).toFloatArray()).as(name + " after step " + step)
                            .containsExactly(handed.get(name).toFloatArray());
                }

                kernels.zeroGradients(List.copyOf(stored.values()));
                stored.forEach((name, p) -> assertThat(p.getGradient().toFloatArray()).as(name).containsOnly(0f));
                handed.values().forEach(Autograd::zeroGradient);
            }
        }
    }

    private static Map<String, NDArray> parameters(NDManager m) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        params.put("w.weight", m.create(INITIAL[0]));
        params.put("x.bias", m.create(INITIAL[1]));
        params.values().forEach(p -> p.setRequiresGradient(true));
        return params;
    }

    /** loss = step * (sum(w * c0) + sum(x^2 * c1)). */
    private static void backward(Map<String, NDArray> params, NDManager m, int step) {
        NDArray loss = Autograd.withGrad(() -> params.get("w.weight").mul(m.create(COEFFICIENTS[0])).sum()
                .add(params.get("x.bias").square().mul(m.create(COEFFICIENTS[1])).sum()).mul(step));
        Autograd.backward(loss, m.create(1f));
    }
}
