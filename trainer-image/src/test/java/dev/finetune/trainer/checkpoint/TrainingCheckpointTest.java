package dev.finetune.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.SyntheticBatches;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.DynamicLossScaling;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingException;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import dev.finetune.trainer.train.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingCheckpointTest {

    @TempDir
    Path tmp;

    static final LoraSettings LORA = new LoraSettings(4, 8, 0.1, Set.of(TargetModule.ALL_LINEAR), LoraBias.NONE, false, false, LoraInit.DEFAULT);

    /** The default options, with {@code scaling} when given (null: the policy of the model's dtype). */
    static Trainer.Options options(DynamicLossScaling scaling) {
        return Trainer.Options.defaults().withLossScaling(scaling);
    }

    static TrainingSettings settings() {
        return new TrainingSettings(2, 5e-3, Scheduler.COSINE, 2, null, 2, 1.0, 0.01, false, 7, 1, 0, 0, 0, 0);
    }

    static Map<String, float[]> weights(LoraModel lora) {
        Map<String, float[]> out = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void resumedRunEndsExactlyWhereAnUninterruptedRunEnds() {
        TrainingState end = assertResumeIsExact(DataType.FLOAT32, null);
        assertThat(end.lossScale()).isNull();
    }

    @Test
    void resumedFp16RunRepeatsTheLossScalingOfAnUninterruptedRun() {
        // 2^22 overflows at first and backs off; growth after 2 clean steps then raises it again: the checkpoint
        // holds a scale, clean-step count and skip total that differ from a fresh run's
        DynamicLossScaling scaling = DynamicLossScaling.gradScalerDefaults().withInitialScale(Math.pow(2, 22))
                .withGrowthInterval(2);
        TrainingState end = assertResumeIsExact(DataType.FLOAT16, scaling);
        assertThat(end.lossScale().skippedSteps()).isPositive().isLessThan(end.globalStep());
    }

    /**
     * Trains 8 steps uninterrupted, then again stopping after step 2 with a checkpoint, resumes from it with
     * a differently initialised adapter, and requires bit-identical weights and equal loop state at the end.
     */
    private TrainingState assertResumeIsExact(DataType dtype, DynamicLossScaling scaling) {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(14, 2, 64, 21); // 7 micro-batches: 4 steps per epoch, last one short
        List<Batch> eval = new SyntheticBatches(4, 2, 64, 22).inOrder();
        Path out = tmp.resolve("run");
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, dtype, m, Engine.kernels())) {
            Map<String, float[]> uninterrupted;
            TrainingState full;
            long fullAdamSteps;
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                Trainer trainer = new Trainer(lora, settings(), data, eval, List.of(), options(scaling));
                full = trainer.run();
                uninterrupted = weights(lora);
                fullAdamSteps = trainer.optimizer().stepCount();
            }
            // stop in the middle of epoch 1 (after step 2), checkpoint on the way out
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                Trainer[] holder = new Trainer[1];
                holder[0] = new Trainer(lora, settings(), data, eval, List.of(new TrainingListener() {
                    @Override
                    public void onStep(Trainer t, StepMetrics metrics) {
                        if (metrics.step() == 2) {
                            t.requestStop();
                        }
                    }

                    @Override
                    public void onInterrupt(Trainer t) {
                        TrainingCheckpoint.save(out, t, "tiny");
                    }
                }), options(scaling));
                assertThatThrownBy(holder[0]::run).isInstanceOf(TrainingException.class)
                        .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.INTERRUPTED));
            }
            Path checkpoint = TrainingCheckpoint.latest(out).orElseThrow();
            assertThat(checkpoint.getFileName().toString()).isEqualTo("checkpoint-2");
            TrainingState saved = TrainingCheckpoint.readState(checkpoint).state();
            assertThat(saved.nextBatch()).isEqualTo(4);
            if (scaling != null) {
                assertThat(saved.lossScale()).isNotNull().isNotEqualTo(scaling.initialState());
            }
            // a different init seed: everything must come from the checkpoint
            try (LoraModel lora = LoraModel.attach(model, LORA, 999)) {
                Trainer resumed = new Trainer(lora, settings(), data, eval, List.of(), options(scaling));
                TrainingCheckpoint.restore(checkpoint, resumed);
                assertThat(resumed.state().lossScale()).isEqualTo(saved.lossScale());
                TrainingState end = resumed.run();
                Map<String, float[]> after = weights(lora);
                for (String k : uninterrupted.keySet()) {
                    assertThat(after.get(k)).as(k).containsExactly(uninterrupted.get(k));
                }
                assertThat(end.globalStep()).isEqualTo(full.globalStep()).isEqualTo(8);
                // tokens/s is wall-clock: every other figure of the history repeats exactly
                assertThat(end.history()).usingRecursiveFieldByFieldElementComparatorIgnoringFields("tokensPerSecond")
                        .isEqualTo(full.history());
                assertThat(end.history()).allSatisfy(r -> assertThat(r.tokensPerSecond()).isPositive());
                assertThat(end.lossScale()).isEqualTo(full.lossScale());
                assertThat(resumed.optimizer().stepCount()).isEqualTo(fullAdamSteps);
                return end;
            }
        }
    }

    /**
     * The losses are read once per log interval: a stop between log steps reads the unread steps before its
     * checkpoint, so the checkpoint holds the epoch's whole NLL sum and the resumed run's epoch train losses equal
     * an uninterrupted run's exactly.
     */
    @Test
    void aStopBetweenLogStepsCheckpointsTheLossOfItsUnreadSteps() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        SyntheticBatches data = new SyntheticBatches(14, 2, 64, 21); // 7 micro-batches: 4 steps per epoch, last one short
        List<Batch> eval = new SyntheticBatches(4, 2, 64, 22).inOrder();
        TrainingSettings logEvery10 = new TrainingSettings(2, 5e-3, Scheduler.COSINE, 2, null, 2, 1.0, 0.01, false, 7, 10,
                0, 0, 0, 0);
        Path out = tmp.resolve("run");
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            TrainingState full;
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                full = new Trainer(lora, logEvery10, data, eval, List.of()).run();
            }
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                Trainer[] holder = new Trainer[1];
                // the stop is asked for while step 3 fetches its micro-batches: no log step has read steps 1-3
                BatchSource stopAtStep3 = new BatchSource() {
                    @Override
                    public int batchesPerEpoch(int epoch) {
                        return data.batchesPerEpoch(epoch);
                    }

                    @Override
                    public Batch batch(int epoch, int index) {
                        if (epoch == 0 && index == 4) {
                            holder[0].requestStop();
                        }
                        return data.batch(epoch, index);
                    }
                };
                holder[0] = new Trainer(lora, logEvery10, stopAtStep3, eval, List.of(new TrainingListener() {
                    @Override
                    public void onInterrupt(Trainer t) {
                        TrainingCheckpoint.save(out, t, "tiny");
                    }
                }));
                assertThatThrownBy(holder[0]::run).isInstanceOf(TrainingException.class)
                        .satisfies(e -> assertThat(((TrainingException) e).reason()).isEqualTo(FailureReason.INTERRUPTED));
            }
            Path checkpoint = TrainingCheckpoint.latest(out).orElseThrow();
            assertThat(checkpoint.getFileName().toString()).isEqualTo("checkpoint-3");
            TrainingState saved = TrainingCheckpoint.readState(checkpoint).state();
            assertThat(saved.epochTokens()).isPositive();
            assertThat(saved.epochNll()).isPositive();
            try (LoraModel lora = LoraModel.attach(model, LORA, 999)) {
                Trainer resumed = new Trainer(lora, logEvery10, data, eval, List.of());
                TrainingCheckpoint.restore(checkpoint, resumed);
                TrainingState end = resumed.run();
                assertThat(end.history()).extracting(r -> r.trainLoss())
                        .isEqualTo(full.history().stream().map(r -> r.trainLoss()).toList());
            }
        }
    }

    @Test
    void anFp16CheckpointWithoutLossScaleStateResumesFromTheDefaultScale() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        Path out = tmp.resolve("run");
        SyntheticBatches data = new SyntheticBatches(8, 2, 64, 3);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel fp16 = DecoderModel.load(dir, DataType.FLOAT16, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(fp16, LORA, 1)) {
            Trainer trainer = new Trainer(lora, settings().withMaxSteps(1), data, List.of(), List.of(),
                    Trainer.Options.defaults().withLossScaling(DynamicLossScaling.gradScalerDefaults().withInitialScale(Math.pow(2, 30))));
            trainer.run();
            Path checkpoint = TrainingCheckpoint.save(out, trainer, "tiny");
            assertThat(TrainingCheckpoint.readState(checkpoint).state().lossScale().scale()).isEqualTo(Math.pow(2, 29));
            // a state without lossScale (as a bf16 or fp32 run saves it)
            Path stateFile = checkpoint.resolve(TrainingCheckpoint.STATE);
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            com.fasterxml.jackson.databind.node.ObjectNode root =
                    (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(stateFile.toFile());
            ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("state")).remove("lossScale");
            json.writeValue(stateFile.toFile(), root);
            assertThat(Files.readString(stateFile)).doesNotContain("lossScale");

            Trainer resumed = new Trainer(lora, settings(), data, List.of(), List.of());
            TrainingCheckpoint.restore(checkpoint, resumed);
            assertThat(resumed.state().globalStep()).isEqualTo(1);
            assertThat(resumed.state().lossScale()).isEqualTo(DynamicLossScaling.gradScalerDefaults().initialState());
        }
    }

    @Test
    void retentionKeepsTheNewestCheckpointsAndWritesAreAtomic() throws Exception {
        Path out = tmp.resolve("run");
        Files.createDirectories(out.resolve("checkpoints/.tmp-checkpoint-99-crashed"));
        trainFourStepsSavingEach(out, saved -> TrainingCheckpoint.retain(out, 2, saved));
        List<Path> left = TrainingCheckpoint.list(out);
        assertThat(left).extracting(p -> p.getFileName().toString()).containsExactly("checkpoint-3", "checkpoint-4");
        try (var files = Files.list(out.resolve("checkpoints"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("checkpoint-3", "checkpoint-4");
        }
        assertThat(out.resolve("checkpoints/checkpoint-4/adapter_model.safetensors")).exists();
        assertThat(out.resolve("checkpoints/checkpoint-4/optimizer.safetensors")).exists();
    }

    /** Trains the tiny model for four steps (8 samples, micro-batch 2), saving a checkpoint to {@code out} after each. */
    private void trainFourStepsSavingEach(Path out, Consumer<Path> afterSave) throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                LoraModel lora = LoraModel.attach(model, LORA, 1)) {
            new Trainer(lora, settings(), new SyntheticBatches(8, 2, 64, 1), List.of(),
                    List.of(new TrainingListener() {
                        @Override
                        public void onStep(Trainer t, StepMetrics metrics) {
                            afterSave.accept(TrainingCheckpoint.save(out, t, "tiny"));
                        }
                    })).run();
        }
    }

    @Test
    void checksumsNameEveryFileAndACorruptNewestCheckpointFallsBackToTheOneBefore() throws Exception {
        Path out = tmp.resolve("sums");
        trainFourStepsSavingEach(out, saved -> { });
        Path three = out.resolve("checkpoints/checkpoint-3");
        Path four = out.resolve("checkpoints/checkpoint-4");
        // sha256sum format, every other file named once, sorted
        List<String> lines = Files.readAllLines(four.resolve(TrainingCheckpoint.CHECKSUMS));
        assertThat(lines).allMatch(l -> l.matches("[0-9a-f]{64}  [a-z_]+\\.(json|safetensors)"));
        assertThat(lines).extracting(l -> l.substring(66)).containsExactly(PeftAdapter.CONFIG, PeftAdapter.WEIGHTS,
                TrainingCheckpoint.OPTIMIZER, TrainingCheckpoint.STATE);
        assertThat(TrainingCheckpoint.verify(four)).isEmpty();
        assertThat(TrainingCheckpoint.latestIntact(out).checkpoint()).contains(four);

        // truncated: the newest is skipped, naming the file, and the one before is resumed from
        Path optimizer = four.resolve(TrainingCheckpoint.OPTIMIZER);
        long size = Files.size(optimizer);
        try (var channel = java.nio.channels.FileChannel.open(optimizer, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(size / 2);
        }
        TrainingCheckpoint.Resumable r = TrainingCheckpoint.latestIntact(out);
        assertThat(r.checkpoint()).contains(three);
        assertThat(r.rejected()).singleElement().satisfies(x -> {
            assertThat(x.checkpoint()).isEqualTo(four);
            assertThat(x.problem()).startsWith(TrainingCheckpoint.OPTIMIZER + " (" + String.format("%,d", size / 2)
                    + " bytes) does not match its SHA-256 in checksums.sha256");
        });

        // a file deleted, and a byte changed without changing the size
        Files.delete(three.resolve(PeftAdapter.WEIGHTS));
        assertThat(TrainingCheckpoint.verify(three)).contains(PeftAdapter.WEIGHTS + " is missing");
        Path two = out.resolve("checkpoints/checkpoint-2");
        byte[] state = Files.readAllBytes(two.resolve(TrainingCheckpoint.STATE));
        state[state.length / 2] ^= 1;
        Files.write(two.resolve(TrainingCheckpoint.STATE), state);
        r = TrainingCheckpoint.latestIntact(out);
        assertThat(r.checkpoint()).contains(out.resolve("checkpoints/checkpoint-1"));
        assertThat(r.rejected()).extracting(TrainingCheckpoint.Rejected::checkpoint).containsExactly(four, three, two);

        // a checkpoint from before checksums is taken as it is; a manifest that is not one is corrupt
        Path one = out.resolve("checkpoints/checkpoint-1");
        Files.writeString(one.resolve(TrainingCheckpoint.CHECKSUMS), "not a checksum\n");
        assertThat(TrainingCheckpoint.verify(one)).contains("checksums.sha256 line 1 is not '<SHA-256>  <file>'");
        Files.delete(one.resolve(TrainingCheckpoint.CHECKSUMS));
        assertThat(TrainingCheckpoint.verify(one)).isEmpty();
        assertThat(TrainingCheckpoint.latestIntact(out).checkpoint()).contains(one);
    }

    @Test
    void aRunResumedAtMaxStepsDoesNotTrainFurther() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        Path out = tmp.resolve("run");
        SyntheticBatches data = new SyntheticBatches(12, 2, 64, 3);
        List<Batch> eval = new SyntheticBatches(4, 2, 64, 4).inOrder();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            TrainingSettings s = settings().withMaxSteps(2);
            Map<String, float[]> finished;
            TrainingState first;
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                first = new Trainer(lora, s, data, eval, List.of(new TrainingListener() {
                    @Override
                    public void onEpochEnd(Trainer t, int epoch) {
                        TrainingCheckpoint.save(out, t, "tiny");
                    }
                })).run();
                finished = weights(lora);
            }
            assertThat(first.globalStep()).isEqualTo(2);
            try (LoraModel lora = LoraModel.attach(model, LORA, 1)) {
                Trainer again = new Trainer(lora, s, data, eval, List.of());
                TrainingCheckpoint.restore(TrainingCheckpoint.latest(out).orElseThrow(), again);
                TrainingState end = again.run();
                assertThat(end.globalStep()).isEqualTo(2);
                assertThat(end.history()).usingRecursiveFieldByFieldElementComparatorIgnoringFields("tokensPerSecond")
                        .isEqualTo(first.history());
                Map<String, float[]> after = weights(lora);
                for (String k : finished.keySet()) {
                    assertThat(after.get(k)).containsExactly(finished.get(k));
                }
            }
        }
    }
}
