package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.testing.Batches;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

    @TempDir
    Path tmp;

    static TrainingSettings settings(int epochs, int accumulation, boolean checkpointing) {
        return new TrainingSettings(epochs, 1e-2, Scheduler.COSINE, 1, null, accumulation, 1.0, 0.01,
                checkpointing, 42, 1, 0, 0, 0, 0);
    }

    static Map<String, float[]> weights(LoraModel lora) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    static double maxDiff(Map<String, float[]> a, Map<String, float[]> b) {
        double d = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k);
            float[] y = b.get(k);
            for (int i = 0; i < x.length; i++) {
                d = Math.max(d, Math.abs(x[i] - y[i]));
            }
        }
        return d;
    }

    /** A source that serves fixed batches. */
    record Fixed(List<Batch> batches) implements BatchSource {
        @Override
        public int batchesPerEpoch(int epoch) {
            return batches.size();
        }

        @Override
        public Batch batch(int epoch, int index) {
            return batches.get(index);
        }
    }

    @Test
    void scheduleMatchesHfFormulas() {
        LrSchedule cosine = new LrSchedule(Scheduler.COSINE, 1.0, 2, 10);
        assertThat(cosine.at(0)).isEqualTo(0.0);
        assertThat(cosine.at(1)).isEqualTo(0.5);
        assertThat(cosine.at(2)).isEqualTo(1.0);
        assertThat(cosine.at(6)).isCloseTo(0.5, within(1e-12));
        assertThat(cosine.at(10)).isCloseTo(0.0, within(1e-12));
        LrSchedule linear = new LrSchedule(Scheduler.LINEAR, 2.0, 2, 10);
        assertThat(linear.at(6)).isCloseTo(1.0, within(1e-12));
        assertThat(new LrSchedule(Scheduler.CONSTANT, 3.0, 4, 10).at(2)).isEqualTo(1.5);
        assertThat(new LrSchedule(Scheduler.CONSTANT, 3.0, 4, 10).at(9)).isEqualTo(3.0);
    }

    /** Issue 11, problem 2: warmup never takes every step, so a one-step run trains at the peak, not at 0. */
    @Test
    void warmupStaysBelowTheRunsLength() {
        TrainingSettings byRatio = new TrainingSettings(1, 1e-3, Scheduler.COSINE, null, 0.03, 1, 1.0, 0.0, false, 42, 10, 0, 0, 0, 0);
        assertThat(byRatio.resolvedWarmup(1)).isEqualTo(1); // HF's rounding, kept
        assertThat(byRatio.warmupFor(1)).isZero();
        assertThat(byRatio.warmupFor(2)).isEqualTo(1);
        assertThat(byRatio.warmupFor(100)).isEqualTo(byRatio.resolvedWarmup(100)).isPositive();
        TrainingSettings bySteps = new TrainingSettings(1, 1e-3, Scheduler.COSINE, 5, null, 1, 1.0, 0.0, false, 42, 10, 0, 0, 0, 0);
        assertThat(bySteps.warmupFor(3)).isEqualTo(2);
        assertThat(bySteps.warmupFor(180)).isEqualTo(5);
        for (Scheduler kind : Scheduler.values()) {
            LrSchedule oneStep = new LrSchedule(kind, 1e-3, byRatio.warmupFor(1), 1);
            assertThat(oneStep.at(0)).as(kind.name()).isEqualTo(1e-3);
            LrSchedule clamped = new LrSchedule(kind, 1e-3, bySteps.warmupFor(3), 3);
            assertThat(clamped.at(0)).isZero();
            assertThat(clamped.at(2)).as(kind.name()).isEqualTo(1e-3);
        }
    }

    @Test
    void adamWMatchesTorchUpdateRule() {
        try (NDManager m = Engine.manager().newSubManager()) {
            NDArray p = m.create(new float[] {1.0f, -2.0f});
            AdamW adam = new AdamW(Map.of("p", p), 0.1, m);
            double[] expected = {1.0, -2.0};
            double[] mm = new double[2];
            double[] vv = new double[2];
            float[][] grads = {{0.5f, -1.0f}, {0.25f, 2.0f}};
            for (int t = 1; t <= 2; t++) {
                double lr = 0.01;
                for (int i = 0; i < 2; i++) {
                    double g = grads[t - 1][i];
                    expected[i] *= 1 - lr * 0.1;
                    mm[i] = 0.9 * mm[i] + 0.1 * g;
                    vv[i] = 0.999 * vv[i] + 0.001 * g * g;
                    double denom = Math.sqrt(vv[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                    expected[i] -= lr / (1 - Math.pow(0.9, t)) * mm[i] / denom;
                }
                adam.step(Map.of("p", m.create(grads[t - 1])), lr);
            }
            float[] actual = p.toFloatArray();
            assertThat((double) actual[0]).isCloseTo(expected[0], within(1e-6));
            assertThat((double) actual[1]).isCloseTo(expected[1], within(1e-6));
            assertThat(adam.stepCount()).isEqualTo(2);
        }
    }

    @Test
    void clippingScalesToTheGlobalNorm() {
        try (NDManager m = Engine.manager().newSubManager()) {
            List<NDArray> grads = List.of(m.create(new float[] {3, 0}), m.create(new float[] {0, 4}));
            GradientClipping.OnDevice clip = GradientClipping.OnDevice.of(Engine.kernels().squaredSumOnDevice(grads), 1.0,
                    1.0, Engine.kernels());
            double norm = clip.norm().getDouble();
            assertThat(norm).isCloseTo(5.0, within(1e-12));
            assertThat(clip.factor().getDouble()).isCloseTo(1 / (5 + 1e-6), within(1e-12));
            assertThat(GradientClipping.coefficient(norm, 1.0)).isCloseTo(1 / (5 + 1e-6), within(1e-12));
            assertThat(GradientClipping.coefficient(norm, 10.0)).isEqualTo(1.0);
            assertThat(GradientClipping.coefficient(norm, 0)).isEqualTo(1.0);
        }
    }

    @Test
    void lossDropsRowsWithoutLabelsAndIsExact() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m)) {
            Batch batch = Batches.padded(List.of(new int[] {1, 5, 9, 12}, new int[] {1, 7}),
                    List.of(new int[] {-100, -100, 9, 12}, new int[] {-100, 7}), 0);
            CausalLmLoss.Targets t = CausalLmLoss.targets(batch);
            // row 0 predicts 9 (from pos 1) and 12 (pos 2); row 1 predicts 7 from pos 0 (flattened index 4)
            assertThat(t.rows()).containsExactly(1, 2, 4);
            assertThat(t.tokens()).containsExactly(9, 12, 7);
            assertThat(batch.labelTokens()).isEqualTo(3);
            BatchTensors tensors = BatchTensors.of(m, batch);
            NDArray ids = tensors.ids();
            NDArray pos = tensors.positions();
            NDArray hidden = model.hiddenStates(ids, pos, null, null, ForwardContext.inference(Engine.kernels()));
            double nll = new CausalLmLoss(Engine.kernels(), model.lmHead(), 64).nllSum(hidden, t);
            float[] logits = model.logits(ids, pos).toFloatArray();
            double expected = 0;
            long[][] picks = {{1, 9}, {2, 12}, {4, 7}};
            for (long[] pick : picks) {
                int base = (int) pick[0] * 64;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < 64; j++) {
                    max = Math.max(max, logits[base + j]);
                }
                double sum = 0;
                for (int j = 0; j < 64; j++) {
                    sum += Math.exp(logits[base + j] - max);
                }
                expected += max + Math.log(sum) - logits[base + (int) pick[1]];
            }
            assertThat(nll).isCloseTo(expected, within(1e-4));
        }
    }

    @Test
    void chunkedLossGradientEqualsSoftmaxMinusOneHot() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m)) {
            NDArray hidden = m.randomNormal(new Shape(1, 3, 32));
            hidden.setRequiresGradient(true);
            CausalLmLoss.Targets t = new CausalLmLoss.Targets(new long[] {0, 2}, new long[] {5, 6});
            new CausalLmLoss(Engine.kernels(), model.lmHead(), 64).backward(hidden, t, 0.5);
            float[] g = hidden.getGradient().toFloatArray();
            float[] h = hidden.toFloatArray();
            float[] w = model.lmHead().toFloatArray();
            // row 1 has no target: zero gradient
            for (int j = 0; j < 32; j++) {
                assertThat(g[32 + j]).isEqualTo(0f);
            }
            int[][] rows = {{0, 5}, {2, 6}};
            for (int[] row : rows) {
                double[] logits = new double[64];
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < 64; v++) {
                    for (int j = 0; j < 32; j++) {
                        logits[v] += h[row[0] * 32 + j] * w[v * 32 + j];
                    }
                    max = Math.max(max, logits[v]);
                }
                double z = 0;
                for (int v = 0; v < 64; v++) {
                    z += Math.exp(logits[v] - max);
                }
                for (int j = 0; j < 32; j++) {
                    double expected = 0;
                    for (int v = 0; v < 64; v++) {
                        double p = Math.exp(logits[v] - max) / z - (v == row[1] ? 1 : 0);
                        expected += 0.5 * p * w[v * 32 + j];
                    }
                    assertThat((double) g[row[0] * 32 + j]).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }

    /** The adapter weights after training fresh adapters (init seed 1) on {@code model}. */
    static Map<String, float[]> trainedWeights(DecoderModel model, LoraSettings settings, TrainingSettings training,
            BatchSource data) {
        try (LoraModel lora = LoraModel.attach(model, settings, 1)) {
            new Trainer(lora, training, data, List.of(), List.of()).run();
            return weights(lora);
        }
    }

    @Test
    void accumulationNormalisesByLabelTokensSoSplittingAStepChangesNothing() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(4, 4, 64, 5);
        Batch all = data.inOrder().getFirst();
        SyntheticBatches halves = new SyntheticBatches(4, 2, 64, 5);
        List<Batch> split = halves.inOrder();
        assertThat(split.get(0).labelTokens()).isNotEqualTo(split.get(1).labelTokens());
        Map<String, float[]> whole;
        Map<String, float[]> accumulated;
        LoraSettings lora = LoraSettings.of(4, 8, TargetModule.ALL_LINEAR);
        List<Batch> micro = new ArrayList<>(split);
        micro.addAll(split);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            whole = trainedWeights(model, lora, settings(1, 1, false).withMaxSteps(2), new Fixed(List.of(all, all)));
            accumulated = trainedWeights(model, lora, settings(1, 2, false).withMaxSteps(2), new Fixed(micro));
        }
        assertThat(maxDiff(whole, accumulated)).isLessThan(2e-6);
    }

    @Test
    void gradientCheckpointingGivesTheSameUpdatesAsAPlainBackward() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.qwen3());
        SyntheticBatches data = new SyntheticBatches(8, 4, 64, 3);
        Map<String, float[]> plain;
        Map<String, float[]> checkpointed;
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            LoraSettings lora = new LoraSettings(4, 8, 0.1, Set.of(TargetModule.ALL_LINEAR), LoraBias.NONE, false, false, LoraInit.DEFAULT);
            plain = trainedWeights(model, lora, settings(1, 1, false), data);
            checkpointed = trainedWeights(model, lora, settings(1, 1, true), data);
        }
        assertThat(maxDiff(plain, checkpointed)).isLessThan(1e-6);
    }

    @Test
    void evalLossIsTokenWeightedOverTheWholeSetAndTrainingLowersIt() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(16, 4, 64, 11);
        SyntheticBatches evalData = new SyntheticBatches(6, 4, 64, 12);
        List<Batch> eval = evalData.inOrder();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(8, 16, TargetModule.ALL_LINEAR), 1)) {
            List<EvalRecord> records = new ArrayList<>();
            Trainer trainer = new Trainer(lora, settings(3, 1, false), data, eval, List.of(new TrainingListener() {
                @Override
                public void onEvaluation(Trainer t, EvalRecord r, boolean improved) {
                    records.add(r);
                }
            }));
            double before = trainer.evaluate();
            // exactness: the per-batch sums divided by all tokens, not the mean of batch means
            CausalLmLoss loss = new CausalLmLoss(Engine.kernels(), model.lmHead(), 64);
            double sum = 0;
            long tokens = 0;
            double meanOfMeans = 0;
            for (Batch b : eval) {
                BatchTensors tensors = BatchTensors.of(m, b);
                NDArray ids = tensors.ids();
                NDArray pos = tensors.positions();
                double s = loss.nllSum(model.hiddenStates(ids, pos, null, null, ForwardContext.inference(Engine.kernels())),
                        CausalLmLoss.targets(b));
                sum += s;
                tokens += b.labelTokens();
                meanOfMeans += s / b.labelTokens() / eval.size();
            }
            assertThat(before).isCloseTo(sum / tokens, within(1e-12));
            assertThat(Math.abs(before - meanOfMeans)).isGreaterThan(1e-9);
            TrainingState end = trainer.run();
            assertThat(records).hasSize(3);
            assertThat(records.get(2).evalLoss()).isLessThan(before - 0.5);
            assertThat(records.get(2).perplexity()).isCloseTo(Math.exp(records.get(2).evalLoss()), within(1e-9));
            assertThat(records.get(2).trainLoss()).isLessThan(records.get(0).trainLoss());
            assertThat(end.globalStep()).isEqualTo(12);
            assertThat(end.bestEvalLoss()).isEqualTo(records.stream().mapToDouble(EvalRecord::evalLoss).min().orElseThrow());
        }
    }

    @Test
    void earlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(8, 4, 64, 11);
        List<Batch> eval = new SyntheticBatches(4, 4, 64, 12).inOrder();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            // minDelta so large that no evaluation counts as an improvement after the first
            TrainingSettings s = new TrainingSettings(10, 1e-3, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false,
                    42, 0, 0, 0, 2, 100.0);
            TrainingState end = new Trainer(lora, s, data, eval, List.of()).run();
            assertThat(end.history()).hasSize(3);
            assertThat(end.globalStep()).isEqualTo(6);
        }
    }

    @Test
    void frozenBaseHasNoGradientAfterTraining() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ, TargetModule.V_PROJ), 1)) {
            new Trainer(lora, settings(1, 1, false), new SyntheticBatches(4, 2, 64, 1), List.of(), List.of()).run();
            assertThat(model.linears().get(0).weight().hasGradient()).isFalse();
            assertThat(lora.adapters().get(0).a().hasGradient()).isTrue();
        }
    }

    @Test
    void bf16BaseWeightsTrainFp32AdaptersWithAndWithoutCheckpointing() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.qwen3().withDtype("BF16"));
        SyntheticBatches data = new SyntheticBatches(8, 4, 64, 11);
        List<Batch> eval = new SyntheticBatches(4, 4, 64, 12).inOrder();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.BFLOAT16, m, Engine.kernels())) {
            for (boolean checkpointing : new boolean[] {false, true}) {
                try (LoraModel lora = LoraModel.attach(model, new LoraSettings(8, 16, 0.05, Set.of(TargetModule.ALL_LINEAR),
                        LoraBias.NONE, false, false, LoraInit.DEFAULT), 1)) {
                    Trainer trainer = new Trainer(lora, settings(2, 1, checkpointing), data, eval, List.of());
                    double before = trainer.evaluate();
                    TrainingState end = trainer.run();
                    assertThat(end.bestEvalLoss()).isLessThan(before);
                    for (NDArray p : lora.trainable().values()) {
                        assertThat(Engine.kernels().dtypeOf(p)).isEqualTo(DataType.FLOAT32);
                    }
                    lora.merge();
                    assertThat(Engine.kernels().dtypeOf(model.linears().get(0).weight())).isEqualTo(DataType.BFLOAT16);
                    List<Long> out = new dev.finetune.trainer.model.Generator(model).generate(new long[] {1, 2, 3},
                            dev.finetune.trainer.model.Generator.Options.greedy(3), java.util.Set.of());
                    assertThat(out).hasSize(3);
                    lora.unmerge();
                }
            }
        }
    }

    @Test
    void aNanInTheModelStopsTrainingWithNanLoss() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        // poison one embedding row that the data uses
        TinyModels.poison(dir, "model.embed_tokens.weight");
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            Trainer trainer = new Trainer(lora, settings(1, 1, false), new SyntheticBatches(4, 2, 64, 1), List.of(), List.of());
            org.assertj.core.api.Assertions.assertThatThrownBy(trainer::run)
                    .isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessageContaining("step 1");
        }
    }

    /**
     * The losses are read once per log interval, but a NaN in a middle step still fails the run naming that step,
     * before anything is logged, evaluated or checkpointed, and no update is made from the NaN step.
     */
    @Test
    void aNanInAMiddleStepOfALogIntervalIsReportedAtThatStep() {
        int poisonedToken = 63;
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        TinyModels.poisonRow(dir, "model.embed_tokens.weight", poisonedToken, 32);
        // tokens below 60 only, but for the first prompt token of micro-batch 2 (step 3)
        List<Batch> batches = new ArrayList<>(new SyntheticBatches(24, 4, 60, 1).inOrder());
        Batch clean = batches.get(2);
        int[] ids = clean.inputIds().clone();
        ids[0] = poisonedToken;
        batches.set(2, new Batch(clean.rows(), clean.length(), ids, clean.labels(), clean.positionIds(), clean.segmentIds()));
        List<String> events = new ArrayList<>();
        TrainingListener recorder = new TrainingListener() {
            @Override
            public void onStep(Trainer t, StepMetrics metrics) {
                events.add("step " + metrics.step());
            }

            @Override
            public void onEvaluation(Trainer t, EvalRecord record, boolean improved) {
                events.add("evaluation");
            }

            @Override
            public void onEpochEnd(Trainer t, int epoch) {
                events.add("epoch end");
            }
        };
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            TrainingSettings logEvery10 = new TrainingSettings(1, 1e-3, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 42,
                    10, 0, 0, 0, 0);
            Trainer trainer = new Trainer(lora, logEvery10, new Fixed(batches), List.of(), List.of(recorder));
            org.assertj.core.api.Assertions.assertThatThrownBy(trainer::run)
                    .isInstanceOf(TrainingException.class)
                    .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.NAN_LOSS))
                    .hasMessage("train loss is NaN at step 3 (epoch 1, micro-batch 2)");
            // the gradient norm is not read per step either: the steps after the NaN run until the read (here the
            // epoch's end), which comes before anything is reported or written
            assertThat(events).isEmpty();
            assertThat(trainer.optimizer().stepCount()).isEqualTo(6);
        }
    }

    /**
     * Reading the losses once per log interval gives the figures a read per step gives, bit for bit: every logged
     * step loss, the epochs' train losses and the weights, with accumulation and a log interval across an epoch end.
     */
    @Test
    void lossesReadPerLogIntervalEqualLossesReadPerStep() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(24, 2, 64, 3);
        List<Batch> eval = new SyntheticBatches(4, 4, 64, 12).inOrder();
        Map<Integer, Map<Long, Double>> logged = new java.util.HashMap<>();
        Map<Integer, List<Double>> epochLosses = new java.util.HashMap<>();
        Map<Integer, Map<String, float[]>> trained = new java.util.HashMap<>();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            // 12 micro-batches per epoch, 2 per step: 6 steps per epoch, 12 in all; 0 logs nothing
            for (int logEvery : new int[] {1, 4, 0}) {
                Map<Long, Double> losses = new java.util.LinkedHashMap<>();
                try (LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.ALL_LINEAR), 1)) {
                    TrainingSettings s = new TrainingSettings(2, 1e-2, Scheduler.COSINE, 1, null, 2, 1.0, 0.01, false, 42,
                            logEvery, 0, 0, 0, 0);
                    TrainingState end = new Trainer(lora, s, data, eval, List.of(new TrainingListener() {
                        @Override
                        public void onStep(Trainer t, StepMetrics metrics) {
                            losses.put(metrics.step(), metrics.loss());
                        }
                    })).run();
                    logged.put(logEvery, losses);
                    epochLosses.put(logEvery, end.history().stream().map(EvalRecord::trainLoss).toList());
                    trained.put(logEvery, weights(lora));
                }
            }
        }
        assertThat(logged.get(1)).hasSize(12);
        assertThat(logged.get(4).keySet()).containsExactly(4L, 8L, 12L);
        logged.get(4).forEach((step, loss) -> assertThat(loss).as("step " + step).isEqualTo(logged.get(1).get(step)));
        assertThat(logged.get(0)).isEmpty();
        assertThat(epochLosses.get(1)).hasSize(2).doesNotContainNull();
        assertThat(epochLosses.get(4)).isEqualTo(epochLosses.get(1));
        assertThat(epochLosses.get(0)).isEqualTo(epochLosses.get(1));
        assertThat(maxDiff(trained.get(4), trained.get(1))).isZero();
        assertThat(maxDiff(trained.get(0), trained.get(1))).isZero();
    }

    @Test
    void evaluatesEveryNStepsAndStopsAtMaxSteps() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        List<Batch> eval = new SyntheticBatches(4, 4, 64, 12).inOrder();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            TrainingSettings s = new TrainingSettings(3, 1e-3, Scheduler.LINEAR, null, 0.25, 1, 1.0, 0, false, 42, 1,
                    2, 5, 0, 0);
            List<Long> logged = new ArrayList<>();
            Trainer trainer = new Trainer(lora, s, new SyntheticBatches(16, 4, 64, 1), eval, List.of(new TrainingListener() {
                @Override
                public void onStep(Trainer t, StepMetrics metrics) {
                    logged.add(metrics.step());
                }
            }));
            assertThat(trainer.totalSteps()).isEqualTo(5);
            assertThat(trainer.schedule().warmupSteps()).isEqualTo(2); // ceil(0.25 * 5)
            TrainingState end = trainer.run();
            assertThat(logged).containsExactly(1L, 2L, 3L, 4L, 5L);
            // mid-epoch evaluations at steps 2 (epoch 1 of 4 steps has steps 1-4: eval at 2, epoch end at 4), then
            // step 5 is maxSteps inside epoch 2: its epoch-end evaluation closes the run
            assertThat(end.history()).extracting(EvalRecord::step).containsExactly(2L, 4L, 5L);
            assertThat(end.history()).extracting(EvalRecord::epochEnd).containsExactly(false, true, true);
            assertThat(end.globalStep()).isEqualTo(5);
        }
    }

    @Test
    void curriculumStagesScaleTheLearningRatePerEpoch() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            TrainingSettings s = new TrainingSettings(2, 1e-2, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 42, 1,
                    0, 0, 0, 0);
            List<Double> lrs = new ArrayList<>();
            List<Map<String, float[]>> afterEpoch = new ArrayList<>();
            // stage 2 (epoch index 1) trains at rate 0: its epoch must leave the weights as they were
            Trainer trainer = new Trainer(lora, s, new SyntheticBatches(8, 4, 64, 1), List.of(), List.of(new TrainingListener() {
                @Override
                public void onStep(Trainer t, StepMetrics metrics) {
                    lrs.add(metrics.learningRate());
                }

                @Override
                public void onEpochEnd(Trainer t, int epoch) {
                    afterEpoch.add(weights(t.lora()));
                }
            }), Trainer.Options.defaults().withLearningRateScale(epoch -> epoch == 0 ? 1.0 : 0.0));
            trainer.run();
            assertThat(lrs).containsExactly(1e-2, 1e-2, 0.0, 0.0);
            assertThat(maxDiff(afterEpoch.get(0), afterEpoch.get(1))).isEqualTo(0.0);
        }
    }
}
