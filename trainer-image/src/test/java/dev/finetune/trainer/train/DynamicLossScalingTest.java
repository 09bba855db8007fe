package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.trainer.FailureReason;
import org.junit.jupiter.api.Test;

class DynamicLossScalingTest {

    static final DynamicLossScaling DEFAULTS = DynamicLossScaling.gradScalerDefaults();

    static LossScaleState apply(DynamicLossScaling policy, LossScaleState s, boolean... finite) {
        long step = 1;
        for (boolean f : finite) {
            s = policy.next(s, f, step++);
        }
        return s;
    }

    static boolean[] times(int n, boolean value) {
        boolean[] out = new boolean[n];
        java.util.Arrays.fill(out, value);
        return out;
    }

    @Test
    void fp16GetsGradScalerDefaultsAndOtherDtypesNoScaling() {
        DynamicLossScaling fp16 = DynamicLossScaling.forDtype(DataType.FLOAT16);
        assertThat(fp16.enabled()).isTrue();
        assertThat(fp16.initialScale()).isEqualTo(65536.0);
        assertThat(fp16.growthFactor()).isEqualTo(2.0);
        assertThat(fp16.backoffFactor()).isEqualTo(0.5);
        assertThat(fp16.growthInterval()).isEqualTo(2000);
        assertThat(fp16.initialState()).isEqualTo(new LossScaleState(65536.0, 0, 0, 0));
        for (DataType other : new DataType[] {DataType.FLOAT32, DataType.BFLOAT16}) {
            DynamicLossScaling off = DynamicLossScaling.forDtype(other);
            assertThat(off.enabled()).as(other.toString()).isFalse();
            assertThat(off.initialState()).as(other.toString()).isNull();
        }
    }

    @Test
    void anOverflowHalvesTheScaleAndRestartsTheCleanStepCount() {
        LossScaleState s = apply(DEFAULTS, DEFAULTS.initialState(), true, true, true);
        assertThat(s).isEqualTo(new LossScaleState(65536.0, 3, 0, 0));
        s = DEFAULTS.next(s, false, 4);
        assertThat(s).isEqualTo(new LossScaleState(32768.0, 0, 1, 1));
        assertThat(s.lastStepSkipped()).isTrue();
        s = DEFAULTS.next(s, false, 5);
        assertThat(s).isEqualTo(new LossScaleState(16384.0, 0, 2, 2));
        // a clean step ends the run of skips but the total is kept
        s = DEFAULTS.next(s, true, 6);
        assertThat(s).isEqualTo(new LossScaleState(16384.0, 1, 2, 0));
        assertThat(s.lastStepSkipped()).isFalse();
    }

    @Test
    void theScaleDoublesAfterGrowthIntervalCleanStepsInARow() {
        DynamicLossScaling policy = DEFAULTS.withGrowthInterval(3);
        LossScaleState s = apply(policy, policy.initialState(), true, true);
        assertThat(s.scale()).isEqualTo(65536.0);
        assertThat(s.cleanSteps()).isEqualTo(2);
        s = policy.next(s, true, 3);
        assertThat(s).isEqualTo(new LossScaleState(131072.0, 0, 0, 0));
        // an overflow in between restarts the count: two clean, overflow, two clean = no growth
        s = apply(policy, s, true, true, false, true, true);
        assertThat(s).isEqualTo(new LossScaleState(65536.0, 2, 1, 0));
        s = policy.next(s, true, 9);
        assertThat(s.scale()).isEqualTo(131072.0);
    }

    @Test
    void theDefaultIntervalGrowsOnlyAtStep2000() {
        LossScaleState s = apply(DEFAULTS, DEFAULTS.initialState(), times(1999, true));
        assertThat(s).isEqualTo(new LossScaleState(65536.0, 1999, 0, 0));
        assertThat(DEFAULTS.next(s, true, 2000)).isEqualTo(new LossScaleState(131072.0, 0, 0, 0));
    }

    @Test
    void growthStopsWhereTheScaleWouldBecomeInfinite() {
        DynamicLossScaling policy = DEFAULTS.withGrowthInterval(1).withInitialScale(Double.MAX_VALUE);
        LossScaleState s = policy.next(policy.initialState(), true, 1);
        assertThat(s).isEqualTo(new LossScaleState(Double.MAX_VALUE, 0, 0, 0));
    }

    @Test
    void anOverflowAtTheMinimumScaleFailsWithNanLossAndSaysWhatToDo() {
        // 2^16 halves to 1 in 16 skips; the 17th overflow would need a scale below 1
        LossScaleState s = apply(DEFAULTS, DEFAULTS.initialState(), times(16, false));
        assertThat(s).isEqualTo(new LossScaleState(1.0, 0, 16, 16));
        LossScaleState atFloor = s;
        assertThatThrownBy(() -> DEFAULTS.next(atFloor, false, 17))
                .isInstanceOf(TrainingException.class)
                .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                .hasMessageContaining("step 17")
                .hasMessageContaining("loss scale 1 ")
                .hasMessageContaining("17 overflowed steps in a row")
                .hasMessageContaining("training.precision bf16")
                .hasMessageContaining("training.learningRate");
        // a finite step at the floor is fine
        assertThat(DEFAULTS.next(atFloor, true, 17).scale()).isEqualTo(1.0);
    }

    @Test
    void tooManySkipsInARowFailEvenAboveTheMinimumScale() {
        DynamicLossScaling policy = DEFAULTS.withInitialScale(Math.pow(2, 60)).withMaxConsecutiveSkips(5);
        LossScaleState s = apply(policy, policy.initialState(), true, false, false, false, false);
        assertThat(s.consecutiveSkips()).isEqualTo(4);
        assertThat(s.scale()).isEqualTo(Math.pow(2, 56));
        LossScaleState four = s;
        assertThatThrownBy(() -> policy.next(four, false, 6))
                .isInstanceOf(TrainingException.class)
                .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                .hasMessageContaining("non-finite for 5 steps in a row (step 6")
                .hasMessageContaining("bf16");
        // a clean step in between resets the run of skips
        assertThat(apply(policy, four, true, false, false, false, false).consecutiveSkips()).isEqualTo(4);
    }

    @Test
    void theDefaultSkipLimitIsFortyInARow() {
        DynamicLossScaling policy = DEFAULTS.withInitialScale(Math.pow(2, 100));
        LossScaleState s = apply(policy, policy.initialState(), times(39, false));
        assertThat(s.scale()).isEqualTo(Math.pow(2, 61));
        LossScaleState last = s;
        assertThatThrownBy(() -> policy.next(last, false, 40)).isInstanceOf(TrainingException.class)
                .hasMessageContaining("40 steps in a row");
    }

    @Test
    void badSettingsNameTheField() {
        assertThatThrownBy(() -> DEFAULTS.withInitialScale(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initialScale");
        assertThatThrownBy(() -> DEFAULTS.withInitialScale(0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minScale");
        assertThatThrownBy(() -> DEFAULTS.withGrowthInterval(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("growthInterval");
        assertThatThrownBy(() -> new DynamicLossScaling(true, 8, 2, 1.0, 10, 1, 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backoffFactor");
        assertThatThrownBy(() -> new DynamicLossScaling(true, 8, 1.0, 0.5, 10, 1, 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("growthFactor");
        assertThatThrownBy(() -> DEFAULTS.withMaxConsecutiveSkips(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxConsecutiveSkips");
    }

    @Test
    void scalesPrintAsIntegersWhereTheyAreWhole() {
        assertThat(DynamicLossScaling.format(65536.0)).isEqualTo("65536");
        assertThat(DynamicLossScaling.format(0.5)).isEqualTo("0.5");
    }
}
