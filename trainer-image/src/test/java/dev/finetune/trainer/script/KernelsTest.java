package dev.finetune.trainer.script;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.engine.Autograd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KernelsTest {

    static NDManager manager;
    static Kernels kernels;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        kernels = Kernels.load(manager);
    }

    @AfterAll
    static void close() {
        kernels.close();
        manager.close();
    }

    @Test
    void rmsNormMatchesDirectFormula() {
        NDArray x = manager.create(new float[] {1, 2, 3, 4, -1, 0, 2, 5}, new Shape(2, 4));
        NDArray w = manager.create(new float[] {1, 0.5f, 2, 1});
        float[] y = kernels.rmsNorm(x, w, 1e-6).toFloatArray();
        double rms0 = Math.sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
        assertThat(y[0]).isCloseTo((float) (1 / rms0), within(1e-6f));
        assertThat(y[1]).isCloseTo((float) (0.5 * 2 / rms0), within(1e-6f));
        double rms1 = Math.sqrt((1 + 0 + 4 + 25) / 4.0 + 1e-6);
        assertThat(y[7]).isCloseTo((float) (5 / rms1), within(1e-6f));
    }

    @Test
    void causalAttentionOfFirstTokenReturnsItsValue() {
        NDArray q = manager.randomNormal(new Shape(1, 4, 3, 8));
        NDArray k = manager.randomNormal(new Shape(1, 2, 3, 8));
        NDArray v = manager.randomNormal(new Shape(1, 2, 3, 8));
        NDArray out = kernels.attention(q, k, v, true);
        assertThat(out.getShape()).isEqualTo(new Shape(1, 4, 3, 8));
        // position 0 sees only key 0: output = v0 of its kv group (heads 0,1 -> group 0; 2,3 -> group 1)
        float[] o = out.get("0,2,0,:").toFloatArray();
        float[] v10 = v.get("0,1,0,:").toFloatArray();
        assertThat(o).containsExactly(v10, within(1e-6f));
    }

    @Test
    void kernelsRecordGradientsWhenGradModeIsOn() {
        NDArray x = manager.create(new float[] {1, 2, 3, 4}, new Shape(1, 4));
        NDArray w = manager.create(new float[] {1, 1, 1, 1});
        w.setRequiresGradient(true);
        NDArray y = Autograd.withGrad(() -> kernels.rmsNorm(x, w, 0).sum());
        Autograd.backward(y, manager.ones(new Shape()));
        double rms = Math.sqrt(30 / 4.0);
        assertThat(w.getGradient().toFloatArray()).containsExactly(
                new float[] {(float) (1 / rms), (float) (2 / rms), (float) (3 / rms), (float) (4 / rms)}, within(1e-6f));
    }
}
