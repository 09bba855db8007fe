package dev.finetune.trainer.parity;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.testing.Batches;
import dev.finetune.trainer.train.AdamW;
import dev.finetune.trainer.train.BatchTensors;
import dev.finetune.trainer.train.CausalLmLoss;
import dev.finetune.trainer.train.LrSchedule;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer's loss, gradients, optimizer, schedules and eval metric against PyTorch / HF Transformers /
 * PEFT: -100 label handling, d loss / d (every lora_A, lora_B), five AdamW steps with warmup + cosine,
 * global-norm clipping and token-normalised gradient accumulation, and the exact eval loss.
 */
class TrainParityTest {

    static Path root() {
        return Goldens.root();
    }

    static List<String> archs() {
        return ModelParityTest.archs();
    }

    static List<String> loraCases() {
        return LoraParityTest.cases();
    }

    private static DecoderModel load(Path modelDir, NDManager m) {
        return DecoderModel.load(modelDir.normalize(), DataType.FLOAT32, m, ParityEngine.kernels());
    }

    private static Batch batch(Map<String, Goldens.Tensor> base) {
        Goldens.Tensor ids = base.get("batch_ids");
        return Batches.fullRows(ids.dim(0), ids.dim(1), ids.longs(), base.get("batch_labels").longs(),
                base.get("batch_positions").longs());
    }

    private static NDArray hidden(DecoderModel model, NDManager m, Batch b, boolean grad) {
        Kernels k = model.kernels();
        BatchTensors t = BatchTensors.of(m, b);
        if (!grad) {
            Autograd.disable();
            return model.hiddenStates(t.ids(), t.positions(), t.mask(), null, ForwardContext.inference(k));
        }
        return Autograd.withGrad(() -> model.hiddenStates(t.ids(), t.positions(), t.mask(), null, new ForwardContext(k, true, 7)));
    }

    /** HF: {@code model(ids, attention_mask, labels).loss} = sum NLL over shifted labels != -100 / their count. */
    @ParameterizedTest
    @MethodSource("archs")
    void lossWithIgnoredLabelsIsHfsTokenMean(String arch) {
        Map<String, Goldens.Tensor> g = Goldens.tensors(root().resolve(arch).resolve("base.safetensors"));
        JsonNode meta = Goldens.json(root().resolve(arch).resolve("base.json"));
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(root().resolve(arch).resolve("model"), m)) {
            Batch b = batch(g);
            CausalLmLoss.Targets targets = CausalLmLoss.targets(b);
            assertThat((long) targets.size()).isEqualTo(meta.get("label_tokens").asLong()).isEqualTo(b.labelTokens());
            double nll = new CausalLmLoss(model.kernels(), model.lmHead(), model.config().vocabSize())
                    .nllSum(hidden(model, m, b, false), targets);
            Tolerance.of("loss").check(arch + " nll_sum", nll, g.get("nll_sum").floats()[0]);
            Tolerance.of("loss").check(arch + " loss", nll / targets.size(), g.get("loss").floats()[0]);
        }
    }

    /** One backward of the mean loss; every adapter gradient against PEFT's. */
    @ParameterizedTest
    @MethodSource("loraCases")
    void gradientsOfEveryAdapterTensorMatchPeft(String lcase) {
        Path dir = root().resolve(lcase);
        JsonNode meta = Goldens.json(dir.resolve("golden.json"));
        Map<String, Goldens.Tensor> base = Goldens.tensors(dir.resolve(meta.get("base_inputs").asText()).normalize());
        Map<String, Goldens.Tensor> g = Goldens.tensors(dir.resolve("golden.safetensors"));
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(dir.resolve(meta.get("model_dir").asText()), m);
                LoraModel lora = LoraModel.attach(model, LoraParityTest.settings(meta), 1)) {
            lora.load(PeftAdapter.read(dir.resolve("adapter")).tensors());
            Batch b = batch(base);
            CausalLmLoss.Targets targets = CausalLmLoss.targets(b);
            double nll = new CausalLmLoss(model.kernels(), model.lmHead(), model.config().vocabSize())
                    .backward(hidden(model, m, b, true), targets, 1.0 / targets.size());
            Tolerance.of("loss").check(lcase + " loss", nll / targets.size(), g.get("loss").floats()[0]);
            int compared = 0;
            for (Map.Entry<String, NDArray> e : lora.trainable().entrySet()) {
                float[] grad = e.getValue().getGradient().toFloatArray();
                Tolerance.of("lora_grad").check(lcase + " grad " + shortKey(e.getKey()), grad,
                        Goldens.require(g, "grad." + e.getKey()).floats());
                compared++;
            }
            assertThat(compared).isEqualTo(g.keySet().stream().filter(k -> k.startsWith("grad.")).count());
        }
    }

    static String shortKey(String key) {
        return key.replace("base_model.model.model.", "");
    }

    private record Run(List<StepMetrics> steps, Map<String, float[]> params, Map<String, float[]> m, Map<String, float[]> v) {}

    private static Run train(String name, long snapshotStep) {
        return train(name, snapshotStep, false);
    }

    /**
     * Trains the golden's whole run (its schedule spans all its steps, as HF's did); the state returned is the one
     * after step {@code snapshotStep}, or after the last step when 0.
     */
    private static Run train(String name, long snapshotStep, boolean gradientCheckpointing) {
        Path dir = root().resolve(name);
        JsonNode meta = Goldens.json(dir.resolve("golden.json"));
        JsonNode hp = meta.get("hyperparameters");
        assertThat(hp.get("betas").get(0).asDouble()).isEqualTo(AdamW.BETA1);
        assertThat(hp.get("betas").get(1).asDouble()).isEqualTo(AdamW.BETA2);
        assertThat(hp.get("eps").asDouble()).isEqualTo(AdamW.EPS);
        assertThat(hp.get("scheduler").asText()).isEqualTo("cosine");
        Map<String, Goldens.Tensor> g = Goldens.tensors(dir.resolve("golden.safetensors"));
        Goldens.Tensor ids = g.get("ids");
        int n = ids.dim(0);
        int rows = ids.dim(1);
        int len = ids.dim(2);
        long[] allIds = ids.longs();
        long[] allLabels = g.get("labels").longs();
        long[] positions = new long[rows * len];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i % len;
        }
        List<Batch> micro = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int from = i * rows * len;
            micro.add(Batches.fullRows(rows, len, Arrays.copyOfRange(allIds, from, from + rows * len),
                    Arrays.copyOfRange(allLabels, from, from + rows * len), positions));
        }
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return micro.size();
            }

            @Override
            public Batch batch(int epoch, int index) {
                return micro.get(index);
            }
        };
        TrainingSettings settings = new TrainingSettings(1, hp.get("learning_rate").asDouble(), Scheduler.COSINE,
                hp.get("warmup_steps").asInt(), null, hp.get("micro_batches_per_step").asInt(),
                hp.get("max_grad_norm").asDouble(), hp.get("weight_decay").asDouble(), gradientCheckpointing, 42, 1, 0, 0, 0, 0);
        List<StepMetrics> steps = new ArrayList<>();
        Run[] snapshot = new Run[1];
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(Trainer trainer, StepMetrics metrics) {
                steps.add(metrics);
                if (metrics.step() == snapshotStep) {
                    snapshot[0] = new Run(List.copyOf(steps), floats(trainer.lora().trainable()),
                            floats(trainer.optimizer().firstMoments()), floats(trainer.optimizer().secondMoments()));
                }
            }
        };
        String lcase = meta.get("arch").asText() + "/" + Path.of(meta.get("initial_adapter_dir").asText()).getParent().getFileName();
        JsonNode loraMeta = Goldens.json(root().resolve(lcase).resolve("golden.json"));
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(dir.resolve(meta.get("model_dir").asText()), m);
                LoraModel lora = LoraModel.attach(model, LoraParityTest.settings(loraMeta), 1)) {
            lora.load(PeftAdapter.read(dir.resolve(meta.get("initial_adapter_dir").asText()).normalize()).tensors());
            Trainer trainer = new Trainer(lora, settings, source, List.of(), List.of(listener));
            trainer.run();
            if (snapshotStep > 0) {
                assertThat(snapshot[0]).as("a snapshot after step " + snapshotStep).isNotNull();
                return snapshot[0];
            }
            return new Run(steps, floats(lora.trainable()), floats(trainer.optimizer().firstMoments()),
                    floats(trainer.optimizer().secondMoments()));
        }
    }

    private static Map<String, float[]> floats(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static void compareState(String name, int step, Run run) {
        Map<String, Goldens.Tensor> g = Goldens.tensors(root().resolve(name).resolve("golden.safetensors"));
        String p = "step" + step + ".";
        long expected = g.keySet().stream().filter(k -> k.startsWith(p + "param.")).count();
        assertThat((long) run.params().size()).isEqualTo(expected);
        run.params().forEach((k, v) -> Tolerance.of("adamw_param").check(name + " " + p + "param " + shortKey(k), v,
                Goldens.require(g, p + "param." + k).floats()));
        run.m().forEach((k, v) -> Tolerance.of("adamw_exp_avg").check(name + " " + p + "exp_avg " + shortKey(k), v,
                Goldens.require(g, p + "exp_avg." + k).floats()));
        run.v().forEach((k, v) -> Tolerance.of("adamw_exp_avg_sq").check(name + " " + p + "exp_avg_sq " + shortKey(k), v,
                Goldens.require(g, p + "exp_avg_sq." + k).floats()));
    }

    /**
     * Five optimizer steps, two micro-batches each: lr per step (warmup 2 then cosine), the step's
     * token-mean loss, the pre-clip global gradient norm (steps 1 and 3 are clipped, 2, 4, 5 not),
     * and AdamW's parameters and moments after step 5, all against torch.
     */
    @Test
    void fiveAdamWStepsWithWarmupCosineClippingAndAccumulationMatchTorch() {
        String name = "train-llama-lora";
        JsonNode log = Goldens.json(root().resolve(name).resolve("golden.json")).get("log");
        Run run = train(name, 0);
        assertThat(run.steps()).hasSize(log.size());
        boolean sawClipped = false;
        boolean sawUnclipped = false;
        for (int i = 0; i < log.size(); i++) {
            JsonNode hf = log.get(i);
            StepMetrics java = run.steps().get(i);
            String at = String.format(Locale.ROOT, "%s step %d", name, i + 1);
            assertThat(java.step()).isEqualTo(hf.get("step").asLong());
            Tolerance.of("lr").check(at + " lr", java.learningRate(), hf.get("lr").asDouble());
            Tolerance.of("loss").check(at + " loss", java.loss(), hf.get("loss").asDouble());
            Tolerance.of("grad_norm").check(at + " grad norm", java.gradNorm(), hf.get("grad_norm_before_clip").asDouble());
            sawClipped |= hf.get("clipped").asBoolean();
            sawUnclipped |= !hf.get("clipped").asBoolean();
        }
        assertThat(sawClipped && sawUnclipped).as("the golden exercises both clipping branches").isTrue();
        compareState(name, 5, run);
    }

    /** DoRA: 5 steps training lora_A, lora_B and the magnitude vectors of q_proj and v_proj. */
    @Test
    void fiveAdamWStepsOfDoraMatchTorch() {
        String name = "train-llama-dora";
        JsonNode log = Goldens.json(root().resolve(name).resolve("golden.json")).get("log");
        Run run = train(name, 0);
        assertThat(run.steps()).hasSize(log.size());
        for (int i = 0; i < log.size(); i++) {
            JsonNode hf = log.get(i);
            StepMetrics java = run.steps().get(i);
            String at = String.format(Locale.ROOT, "%s step %d", name, i + 1);
            Tolerance.of("lr").check(at + " lr", java.learningRate(), hf.get("lr").asDouble());
            Tolerance.of("loss").check(at + " loss", java.loss(), hf.get("loss").asDouble());
            Tolerance.of("grad_norm").check(at + " grad norm", java.gradNorm(), hf.get("grad_norm_before_clip").asDouble());
        }
        assertThat(run.params().keySet()).anyMatch(k -> k.endsWith(".lora_magnitude_vector"));
        compareState(name, 5, run);
    }

    /** Gradient checkpointing (recompute each layer in backward) must not change the numbers. */
    @Test
    void gradientCheckpointingGivesTheSameFiveSteps() {
        String name = "train-llama-lora";
        JsonNode log = Goldens.json(root().resolve(name).resolve("golden.json")).get("log");
        Run run = train(name, 0, true);
        assertThat(run.steps()).hasSize(log.size());
        for (int i = 0; i < log.size(); i++) {
            Tolerance.of("loss").check(name + " (checkpointing) step " + (i + 1) + " loss", run.steps().get(i).loss(),
                    log.get(i).get("loss").asDouble());
            Tolerance.of("grad_norm").check(name + " (checkpointing) step " + (i + 1) + " grad norm",
                    run.steps().get(i).gradNorm(), log.get(i).get("grad_norm_before_clip").asDouble());
        }
        compareState(name, 5, run);
    }

    /** After step 1 (lr 0 in warmup: weights unchanged, moments filled). */
    @Test
    void firstAdamWStepMatchesTorch() {
        compareState("train-llama-lora", 1, train("train-llama-lora", 1));
    }

    @Test
    void lrSchedulesMatchTransformers() {
        JsonNode doc = Goldens.json(root().resolve("schedules.json"));
        Tolerance tol = Tolerance.of("lr");
        int compared = 0;
        for (JsonNode s : doc.get("schedules")) {
            Scheduler kind = Scheduler.valueOf(s.get("scheduler").asText().toUpperCase(Locale.ROOT));
            int warmup = s.get("warmup_steps").asInt();
            int total = s.get("total_steps").asInt();
            LrSchedule schedule = new LrSchedule(kind, 1.0, warmup, total);
            JsonNode mult = s.get("multipliers");
            double[] java = new double[mult.size()];
            double[] hf = new double[mult.size()];
            for (int k = 0; k < mult.size(); k++) {
                java[k] = schedule.at(k);
                hf[k] = mult.get(k).asDouble();
            }
            tol.check(String.format(Locale.ROOT, "%s warmup %d total %d", kind, warmup, total), java, hf);
            compared++;
        }
        assertThat(compared).isGreaterThanOrEqualTo(15);
    }

    @Test
    void warmupRatioRoundsUpLikeTrainingArguments() {
        JsonNode doc = Goldens.json(root().resolve("schedules.json"));
        for (JsonNode r : doc.get("warmup_ratio_to_steps")) {
            TrainingSettings s = new TrainingSettings(1, 1e-4, Scheduler.COSINE, null, r.get("warmup_ratio").asDouble(),
                    1, 1.0, 0.0, false, 42, 1, 0, 0, 0, 0);
            assertThat(s.resolvedWarmup(r.get("total_steps").asLong()))
                    .as("warmup_ratio %s of %s steps", r.get("warmup_ratio"), r.get("total_steps"))
                    .isEqualTo(r.get("warmup_steps").asInt());
        }
    }

    /**
     * The trainer's eval loss is sum NLL / label tokens over the whole eval set (exact perplexity);
     * HF Trainer's eval_loss averages per-batch means weighted by sample count. Both are in the golden;
     * the trainer must match the exact one and differ from HF's by the recorded amount.
     */
    @Test
    void evalLossIsTokenWeightedNotHfTrainersBatchMean() {
        Path dir = root().resolve("eval-llama");
        JsonNode meta = Goldens.json(dir.resolve("golden.json"));
        Map<String, Goldens.Tensor> g = Goldens.tensors(dir.resolve("golden.safetensors"));
        int samples = meta.get("samples").asInt();
        int batchSize = meta.get("batch_size").asInt();
        List<Batch> eval = new ArrayList<>();
        for (int s = 0; s < samples; s += batchSize) {
            List<int[]> ids = new ArrayList<>();
            List<int[]> labels = new ArrayList<>();
            for (int i = s; i < Math.min(samples, s + batchSize); i++) {
                ids.add(Batches.ints(g.get("sample" + i + ".input_ids").longs()));
                labels.add(Batches.ints(g.get("sample" + i + ".labels").longs()));
            }
            eval.add(Batches.padded(ids, labels, 0));
        }
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return eval.size();
            }

            @Override
            public Batch batch(int epoch, int index) {
                return eval.get(index);
            }
        };
        double loss;
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(dir.resolve(meta.get("model_dir").asText()), m);
                // B starts at zero, so the adapted model is the base model the golden evaluated
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.Q_PROJ), 1)) {
            Trainer trainer = new Trainer(lora, TrainingSettings.defaults(1, 1e-4), source, eval, List.of());
            loss = trainer.evaluate();
        }
        Tolerance tol = Tolerance.of("eval_loss");
        tol.check("eval loss (exact, token-weighted)", loss, meta.get("exact_eval_loss").asDouble());
        tol.check("perplexity = exp(eval loss)", Math.exp(loss), meta.get("exact_perplexity").asDouble());
        double hf = meta.get("hf_trainer_eval_loss").asDouble();
        assertThat(Math.abs(loss - hf)).as("differs from HF Trainer's sample-weighted batch mean %s", hf)
                .isCloseTo(Math.abs(meta.get("difference").asDouble()), org.assertj.core.api.Assertions.within(1e-4));
    }
}
