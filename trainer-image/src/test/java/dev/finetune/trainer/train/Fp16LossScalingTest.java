package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 training on CPU (libtorch runs fp16 matmul, SDPA and the TorchScript kernels there) with loss scaling. */
class Fp16LossScalingTest {

    @TempDir
    Path tmp;

    static final LoraSettings LORA = LoraSettings.of(8, 16, TargetModule.ALL_LINEAR);

    static TrainingSettings settings(int epochs) {
        return new TrainingSettings(epochs, 1e-2, Scheduler.COSINE, 0, null, 1, 1.0, 0.01, false, 42, 1, 0, 0, 0, 0);
    }

    static Map<String, float[]> copy(Map<String, NDArray> tensors) {
        Map<String, float[]> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    static void assertBitIdentical(Map<String, float[]> actual, Map<String, float[]> expected, String what) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String k : expected.keySet()) {
            assertThat(actual.get(k)).as(what + " " + k).containsExactly(expected.get(k));
        }
    }

    static boolean anyDifferent(Map<String, float[]> a, Map<String, float[]> b) {
        for (String k : a.keySet()) {
            if (!java.util.Arrays.equals(a.get(k), b.get(k))) {
                return true;
            }
        }
        return false;
    }

    /** Weights, AdamW moments and step count after one optimizer step, with that step's metrics. */
    record Snapshot(StepMetrics metrics, Map<String, float[]> weights, Map<String, float[]> m, Map<String, float[]> v,
            long adamSteps) {
        static Snapshot of(Trainer t, StepMetrics metrics) {
            return new Snapshot(metrics, copy(t.lora().trainable()), copy(t.optimizer().firstMoments()),
                    copy(t.optimizer().secondMoments()), t.optimizer().stepCount());
        }
    }

    @Test
    void anOverflowedStepIsSkippedTheScaleHalvesAndTrainingThenLowersTheLoss() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(16, 4, 64, 11);
        List<Batch> eval = new SyntheticBatches(6, 4, 64, 12).inOrder();
        double initialScale = Math.pow(2, 24); // 2^24 / ~30 label tokens: the lm-head gradient alone exceeds fp16's 65504
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT16, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LORA, 1)) {
            List<Snapshot> steps = new ArrayList<>();
            assertThat(new Trainer(lora, settings(3), data, eval, List.of()).lossScaling())
                    .isEqualTo(DynamicLossScaling.gradScalerDefaults());
            Trainer trainer = new Trainer(lora, settings(3), data, eval, List.of(new TrainingListener() {
                @Override
                public void onStep(Trainer t, StepMetrics metrics) {
                    steps.add(Snapshot.of(t, metrics));
                }
            }), Trainer.Options.defaults().withLossScaling(DynamicLossScaling.gradScalerDefaults().withInitialScale(initialScale)));
            Snapshot start = Snapshot.of(trainer, null);
            double before = trainer.evaluate();
            TrainingState end = trainer.run();

            assertThat(steps).hasSize(12);
            Snapshot first = steps.getFirst();
            assertThat(first.metrics().lossScale()).isEqualTo(new LossScaleState(initialScale / 2, 0, 1, 1));
            assertThat(first.metrics().gradNorm()).as("a skipped step reports its non-finite norm").isNaN();
            assertThat(first.metrics().loss()).isFinite();
            assertBitIdentical(first.weights(), start.weights(), "LoRA weight");
            assertBitIdentical(first.m(), start.m(), "AdamW m");
            assertBitIdentical(first.v(), start.v(), "AdamW v");
            assertThat(first.adamSteps()).isZero();

            double scale = initialScale;
            long skipped = 0;
            Snapshot previous = start;
            for (Snapshot s : steps) {
                LossScaleState ls = s.metrics().lossScale();
                // the schedule follows the updates actually made (HF Trainer: no lr_scheduler.step() on a skipped step)
                assertThat(s.metrics().learningRate()).isEqualTo(trainer.schedule().at(s.metrics().step() - 1 - skipped));
                if (ls.lastStepSkipped()) {
                    skipped++;
                    scale /= 2;
                    assertBitIdentical(s.weights(), previous.weights(), "step " + s.metrics().step() + " weight");
                    assertBitIdentical(s.m(), previous.m(), "step " + s.metrics().step() + " m");
                    assertThat(s.adamSteps()).isEqualTo(previous.adamSteps());
                } else {
                    assertThat(anyDifferent(s.weights(), previous.weights())).as("step " + s.metrics().step()).isTrue();
                    assertThat(s.adamSteps()).isEqualTo(previous.adamSteps() + 1);
                    assertThat(s.metrics().gradNorm()).isFinite().isPositive();
                }
                assertThat(ls.scale()).isEqualTo(scale);
                assertThat(ls.skippedSteps()).isEqualTo(skipped);
                previous = s;
            }
            assertThat(skipped).isBetween(1L, 6L);
            assertThat(end.lossScale().skippedSteps()).isEqualTo(skipped);
            assertThat(trainer.optimizer().stepCount()).isEqualTo(12 - skipped);
            assertThat(end.globalStep()).isEqualTo(12);
            // the last step never skips once the scale has settled, and learning happened
            assertThat(steps.getLast().metrics().lossScale().lastStepSkipped()).isFalse();
            assertThat(end.bestEvalLoss()).isLessThan(before - 0.5);
            assertThat(end.history().getLast().trainLoss()).isLessThan(end.history().getFirst().trainLoss());
        }
    }

    @Test
    void gradientsAreUnscaledBeforeClippingReportingAndTheUpdate() {
        // a power-of-two scale is exact in fp16 wherever values stay normal, so a run at the default scale
        // must report the norms and reach the weights of an unscaled fp16 run up to the rounding of the
        // unscaled run's subnormal gradients (a scale left in the gradients would be off by 2^16)
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(16, 4, 64, 11);
        List<List<Double>> norms = new ArrayList<>();
        List<Map<String, float[]>> weights = new ArrayList<>();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT16, m, Engine.kernels())) {
            for (DynamicLossScaling scaling : List.of(DynamicLossScaling.off(), DynamicLossScaling.gradScalerDefaults())) {
                try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                    List<Double> n = new ArrayList<>();
                    Trainer trainer = new Trainer(lora, settings(1), data, List.of(), List.of(new TrainingListener() {
                        @Override
                        public void onStep(Trainer t, StepMetrics s) {
                            n.add(s.gradNorm());
                        }
                    }), Trainer.Options.defaults().withLossScaling(scaling));
                    trainer.run();
                    norms.add(n);
                    weights.add(copy(lora.trainable()));
                }
            }
        }
        assertThat(norms.get(1)).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(norms.get(1).get(i)).isCloseTo(norms.get(0).get(i), org.assertj.core.api.Assertions.withinPercentage(0.1));
        }
        // Updates are ~lr = 1e-2 per step. AdamW's first update is +-lr whatever the gradient's size, so an element
        // whose early gradient is within fp16 rounding of zero can step the other way in one run (libtorch 2.11's
        // fp16 CPU kernels do that to one element of 8 192 here): a few elements may part by up to two
        // trajectories' worth of steps, every other one stays within a tenth of a step.
        double maxDiff = 0;
        int elements = 0;
        int apart = 0;
        for (String k : weights.get(0).keySet()) {
            float[] unscaled = weights.get(0).get(k);
            float[] scaled = weights.get(1).get(k);
            for (int i = 0; i < unscaled.length; i++) {
                double diff = Math.abs(unscaled[i] - scaled[i]);
                maxDiff = Math.max(maxDiff, diff);
                elements++;
                if (diff >= 1e-3) {
                    apart++;
                }
            }
        }
        assertThat(apart).as("elements more than a tenth of a step apart, of %d", elements).isLessThanOrEqualTo(elements / 1000);
        assertThat(maxDiff).isLessThan(2 * 4 * 1e-2);
    }

    /** LoRA B gradients of one micro-batch backward through the frozen model, as the trainer runs it. */
    static Map<String, float[]> loraBGradients(DecoderModel model, Batch batch, double gradScale) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (LoraModel lora = LoraModel.attach(model, LORA, 1);
                NDManager scope = model.manager().newSubManager()) {
            BatchTensors t = BatchTensors.of(scope, batch);
            NDArray hidden = Autograd.withGrad(() -> model.hiddenStates(t.ids(), t.positions(), null, null,
                    new ForwardContext(Engine.kernels(), true, 1)));
            new CausalLmLoss(Engine.kernels(), model.lmHead(), 64).backward(hidden, CausalLmLoss.targets(batch), gradScale);
            // B is initialised to zero, so A has no gradient before the first update; B's is the informative one
            lora.trainable().forEach((k, p) -> {
                if (k.contains("lora_B")) {
                    out.put(k, p.getGradient().toFloatArray());
                }
            });
        }
        return out;
    }

    record Comparison(int flushedToZero, double relativeError) {}

    static Comparison compare(Map<String, float[]> fp16Scaled, double scale, Map<String, float[]> fp32) {
        int zeros = 0;
        double err = 0;
        double norm = 0;
        for (String k : fp32.keySet()) {
            float[] ref = fp32.get(k);
            float[] got = fp16Scaled.get(k);
            for (int i = 0; i < ref.length; i++) {
                double g = got[i] / scale;
                if (got[i] == 0 && ref[i] != 0) {
                    zeros++;
                }
                err += (g - ref[i]) * (g - ref[i]);
                norm += (double) ref[i] * ref[i];
            }
        }
        return new Comparison(zeros, Math.sqrt(err / norm));
    }

    @Test
    void withoutScalingSmallFp16GradientsFlushToZeroAndTheDefaultScaleKeepsThem() {
        // one micro-batch of a step with 2^20 label tokens (e.g. 32 x 2048 tokens x 16 accumulation steps):
        // each token's loss gradient is 2^-20 of the step's, which pushes activation gradients in the frozen
        // fp16 layers below fp16's smallest subnormal (2^-24)
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        Batch batch = new SyntheticBatches(16, 4, 64, 11).batch(0, 0);
        double perToken = Math.pow(2, -20);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel fp32 = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                DecoderModel fp16 = DecoderModel.load(dir, DataType.FLOAT16, m, Engine.kernels())) {
            Map<String, float[]> reference = loraBGradients(fp32, batch, perToken);
            double scale = DynamicLossScaling.DEFAULT_INITIAL_SCALE;
            Comparison unscaled = compare(loraBGradients(fp16, batch, perToken), 1, reference);
            Comparison scaled = compare(loraBGradients(fp16, batch, scale * perToken), scale, reference);
            assertThat(unscaled.flushedToZero()).isPositive();
            assertThat(unscaled.relativeError()).isGreaterThan(0.2);
            assertThat(scaled.flushedToZero()).isZero();
            assertThat(scaled.relativeError()).isLessThan(0.005);
        }
    }

    @Test
    void overflowAfterOverflowFailsWithNanLossAndAHint() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT16, m);
                LoraModel lora = LoraModel.attach(model, LORA, 1)) {
            // 2^40 overflows for many halvings; allow only 3 skips in a row
            Trainer trainer = new Trainer(lora, settings(1), new SyntheticBatches(16, 4, 64, 11), List.of(), List.of(),
                    Trainer.Options.defaults().withLossScaling(DynamicLossScaling.gradScalerDefaults()
                            .withInitialScale(Math.pow(2, 40)).withMaxConsecutiveSkips(3)));
            assertThatThrownBy(trainer::run).isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessageContaining("non-finite for 3 steps in a row (step 3")
                    .hasMessageContaining("bf16");
            assertThat(trainer.optimizer().stepCount()).isZero();
        }
    }

    @Test
    void aNonFiniteLossStillFailsInFp16InsteadOfBeingSkipped() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        TinyModels.poison(dir, "model.norm.weight");
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT16, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LORA, 1)) {
            Trainer trainer = new Trainer(lora, settings(1), new SyntheticBatches(8, 4, 64, 1), List.of(), List.of());
            assertThatThrownBy(trainer::run).isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessageContaining("train loss is NaN at step 1");
        }
    }

    @Test
    void fp32RunsHaveNoLossScaleState() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LORA, 1)) {
            List<StepMetrics> metrics = new ArrayList<>();
            Trainer trainer = new Trainer(lora, settings(1), new SyntheticBatches(8, 4, 64, 1), List.of(),
                    List.of(new TrainingListener() {
                        @Override
                        public void onStep(Trainer t, StepMetrics s) {
                            metrics.add(s);
                        }
                    }));
            assertThat(trainer.lossScaling().enabled()).isFalse();
            TrainingState end = trainer.run();
            assertThat(end.lossScale()).isNull();
            assertThat(end.skippedSteps()).isZero();
            assertThat(metrics).hasSize(2).allSatisfy(s -> assertThat(s.lossScale()).isNull());
            assertThat(trainer.optimizer().stepCount()).isEqualTo(2);
        }
    }
}
