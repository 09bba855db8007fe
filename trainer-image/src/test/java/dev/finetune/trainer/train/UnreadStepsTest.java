package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.dist.Collective;
import dev.finetune.trainer.testing.Engine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnreadStepsTest {

    /** Two ranks as seen from rank 0: the other rank's values are added in rank order, and each call is recorded. */
    static final class TwoRanks implements Collective {
        final double[] other;
        final List<Integer> reductions = new ArrayList<>();

        TwoRanks(double... other) {
            this.other = other;
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 2;
        }

        @Override
        public double[] allReduceSum(double[] values) {
            reductions.add(values.length);
            double[] sum = values.clone();
            for (int i = 0; i < sum.length; i++) {
                sum[i] += other[i];
            }
            return sum;
        }

        @Override
        public float[] allReduceSum(float[] values) {
            throw new UnsupportedOperationException();
        }
    }

    private static NDArray fp64(NDManager m, double value) {
        NDArray scalar = m.create(value);
        assertThat(scalar.getDataType()).isEqualTo(ai.djl.ndarray.types.DataType.FLOAT64);
        return scalar;
    }

    @Test
    void readsEveryUnreadStepInOrderExactlyAndThenNone() {
        try (NDManager m = Engine.manager().newSubManager()) {
            UnreadSteps losses = new UnreadSteps(m, Collective.single());
            double a = 0.1 + 0.2;
            double b = Math.PI * 1e10;
            double c = Math.nextUp(1.0);
            losses.addOnDevice(1, 0, 0, fp64(m, a));
            losses.addOnHost(2, 0, 2, 0);
            losses.addOnDevice(3, 0, 4, fp64(m, b));
            losses.addOnDevice(4, 0, 6, fp64(m, c));
            assertThat(losses.size()).isEqualTo(4);
            assertThat(losses.read()).containsExactly(a, 0, b, c);
            assertThat(losses.size()).isZero();
            assertThat(losses.read()).isEmpty();
            losses.addOnDevice(5, 1, 0, fp64(m, b));
            assertThat(losses.read()).containsExactly(b);
        }
    }

    @Test
    void theFirstNonFiniteStepIsNamedWithItsEpochAndMicroBatch() {
        try (NDManager m = Engine.manager().newSubManager()) {
            UnreadSteps losses = new UnreadSteps(m, Collective.single());
            losses.addOnDevice(11, 1, 18, fp64(m, 2.5));
            losses.addOnDevice(12, 1, 20, fp64(m, 3.5));
            losses.addOnDevice(13, 1, 22, fp64(m, Double.NaN));
            losses.addOnHost(14, 1, 24, Double.POSITIVE_INFINITY);
            losses.addOnDevice(15, 1, 26, fp64(m, Double.NaN));
            assertThatThrownBy(losses::read).isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessage("train loss is NaN at step 13 (epoch 2, micro-batch 22)");
            assertThat(losses.size()).isZero();
        }
    }

    @Test
    void ranksAreSummedPerStepInOneReductionAndANonFiniteSumOnAnyRankFails() {
        try (NDManager m = Engine.manager().newSubManager()) {
            TwoRanks ranks = new TwoRanks(0.5, 0.25, 1e-17);
            UnreadSteps losses = new UnreadSteps(m, ranks);
            losses.addOnDevice(1, 0, 0, fp64(m, 1.0));
            losses.addOnHost(2, 0, 1, 0);
            losses.addOnDevice(3, 0, 2, fp64(m, 1.0));
            // each step's sum is the per-step all-reduce's: 1 + 1e-17 rounds to 1 in fp64, as it would per step
            assertThat(losses.read()).containsExactly(1.5, 0.25, 1.0);
            assertThat(ranks.reductions).containsExactly(3);

            UnreadSteps failing = new UnreadSteps(m, new TwoRanks(0, Double.NEGATIVE_INFINITY));
            failing.addOnDevice(7, 0, 6, fp64(m, 1.0));
            failing.addOnDevice(8, 0, 7, fp64(m, 1.0));
            assertThatThrownBy(failing::read).hasMessage("train loss is -Infinity at step 8 (epoch 1, micro-batch 7)");
        }
    }

    @Test
    void gradientNormsComeBackWithTheLossesAndADeviceNormThatIsNotFiniteFailsAfterItsStepsLoss() {
        try (NDManager m = Engine.manager().newSubManager()) {
            TwoRanks ranks = new TwoRanks(0.5, 0.25, 0.125);
            UnreadSteps steps = new UnreadSteps(m, ranks);
            steps.addOnDevice(1, 0, 0, fp64(m, 1.0));
            steps.gradientNorm(fp64(m, 0.75));
            steps.addOnHost(2, 0, 1, 2.0);
            // read by its step (fp16 skip): not judged again
            steps.gradientNorm(Double.POSITIVE_INFINITY);
            steps.addOnDevice(3, 0, 2, fp64(m, 3.0));
            steps.gradientNorm(fp64(m, 0.5));
            assertThat(steps.read()).containsExactly(1.5, 2.25, 3.125);
            assertThat(steps.latestGradientNorm()).as("norms are not reduced over the ranks again").isEqualTo(0.5);
            assertThat(ranks.reductions).containsExactly(3);

            UnreadSteps failing = new UnreadSteps(m, Collective.single());
            failing.addOnDevice(4, 1, 6, fp64(m, 1.0));
            failing.gradientNorm(fp64(m, 2.0));
            failing.addOnDevice(5, 1, 8, fp64(m, 1.0));
            failing.gradientNorm(fp64(m, Double.NaN));
            failing.addOnDevice(6, 1, 10, fp64(m, Double.NaN));
            failing.gradientNorm(fp64(m, Double.NaN));
            assertThatThrownBy(failing::read).isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessage("gradient norm is NaN at step 5 (epoch 2, micro-batch 8)");

            UnreadSteps lossFirst = new UnreadSteps(m, Collective.single());
            lossFirst.addOnDevice(9, 0, 3, fp64(m, Double.POSITIVE_INFINITY));
            lossFirst.gradientNorm(fp64(m, Double.NaN));
            assertThatThrownBy(lossFirst::read).hasMessage("train loss is Infinity at step 9 (epoch 1, micro-batch 3)");
        }
    }
}
