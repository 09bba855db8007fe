package dev.finetune.trainer.run;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.trainer.TrainerWarning;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.api.v1alpha1.Precision;
import dev.finetune.api.v1alpha1.PushSpec;
import dev.finetune.api.v1alpha1.TrainingMethod;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.checkpoint.TrainingReport;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.curriculum.StageEpoch;
import dev.finetune.trainer.data.curriculum.StagePlan;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.dist.Collective;
import dev.finetune.trainer.generate.TextGenerator;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.ComputeDtype;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import dev.finetune.trainer.preference.PreferenceLoss;
import dev.finetune.trainer.progress.ConfigMapProgressSink;
import dev.finetune.trainer.progress.FileProgressSink;
import dev.finetune.trainer.progress.ProgressSink;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.MemoryEstimator;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingException;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import dev.finetune.trainer.train.TrainingState;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One fine-tuning run, from a {@link TrainerConfig} to an adapter, as a recipe in phases: setup (join the
 * gang, load the tokenizer once, prepare the data, load the model and attach the adapters), train (resume,
 * sample generations before, the loop, generations after), save ({@link RunArtifacts}). The same code runs in
 * a worker pod and under {@code finetune run}. Every failure ends in a {@link FailureReason}
 * ({@link FailureClassifier}), a final progress report and the reason's exit code.
 */
public final class FineTuneRun {

    /** How the run ended. */
    public record Result(int exitCode, ProgressReport report) {}

    /** The resumeFrom that finds the newest checkpoint in the output directory (finetune run's default). */
    public static final String RESUME_LATEST = "latest";

    private final TrainerConfig config;
    private final PrintStream out;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile Trainer trainer;

    public FineTuneRun(TrainerConfig config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    /** Installs a SIGTERM hook: stop at the next step, checkpoint, then let the JVM exit. */
    public void stopOnShutdown(long graceSeconds) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Trainer t = trainer;
            if (t != null && finished.getCount() > 0) {
                t.requestStop();
                try {
                    finished.await(graceSeconds, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "finetune-sigterm"));
    }

    public Result execute() {
        Path outputDir = Path.of(config.paths().outputDir());
        int world = config.distributed() == null ? 1 : config.distributed().worldSize();
        int rank = world == 1 ? 0 : Integer.parseInt(System.getenv().getOrDefault("RANK", "0"));
        if (RESUME_LATEST.equals(config.resumeFrom())) {
            var done = RunLineage.finished(outputDir);
            if (done.isPresent()) {
                List<String> changes = done.get().specChanges(config.spec());
                if (changes.isEmpty()) {
                    finished.countDown();
                    return alreadyFinished(done.get(), outputDir, rank);
                }
                if (rank == 0) {
                    out.println("note: " + outputDir + " holds a finished run of another spec (" + String.join("; ", changes)
                            + "): continuing it with this spec; --resume none starts over instead");
                }
            }
        }
        // only rank 0 reports and writes outputs
        List<ProgressSink> sinks = rank == 0 ? sinks(outputDir) : List.of();
        List<StagePlan> stages = new ArrayList<>();
        RunReporter reporter = new RunReporter(sinks, out, config.attempt(),
                epoch -> stages.size() <= 1 ? null : StageEpoch.of(stages, epoch).stage().name());
        Gang gang = Gang.single();
        try {
            RunLineage.requireDirectory(outputDir);
            if (rank == 0 && (config.resumeFrom() == null || config.resumeFrom().isBlank())) {
                startFreshLineage(outputDir);
            }
            reporter.initializing("finetune: job " + config.job().name() + ", attempt " + config.attempt()
                    + ", output " + outputDir);
            if (world > 1) {
                gang = Gang.join(config.distributed(), rank, world, System.getenv(), out);
            }
            FineTuneJobSpec spec = config.spec();
            LoraSettings loraSettings = LoraSettings.of(spec.getLora());
            Path modelDir = Path.of(config.paths().modelDir());
            try (ModelTokenizer tokenizer = ModelTokenizer.load(modelDir)) {
                PreparedDataset data = prepareData(tokenizer, rank, world);
                stages.addAll(data.stages());
                try (NDManager manager = gang.device() == null ? NDManager.newBaseManager()
                                : NDManager.newBaseManager(gang.device());
                        Kernels kernels = Kernels.load(manager);
                        DecoderModel model = DecoderModel.load(modelDir, ComputeDtype.of(spec.getTraining().getPrecision()),
                                manager, kernels);
                        LoraModel lora = LoraModel.attach(model, loraSettings, spec.getTraining().getSeed())) {
                    if (rank == 0) {
                        out.println("model: " + model.config().modelType() + ", " + model.config().numLayers()
                                + " layers, hidden " + model.config().hiddenSize() + ", "
                                + spec.getTraining().getPrecision().name().toLowerCase(Locale.ROOT));
                        out.println(lora.trainableSummary());
                        gpusNotUsed(spec.getResources() == null ? 0 : spec.getResources().getGpus(), manager.getDevice())
                                .ifPresent(System.err::println);
                        reporter.memory(MemoryEstimator.estimate(new MemoryEstimator.Run(model.config(),
                                model.parameterCount(), elementBytes(spec.getTraining().getPrecision()),
                                lora.trainableParameterCount(), spec.getTraining().getBatchSize(),
                                spec.getDataset().getMaxSeqLength(), spec.getTraining().isGradientCheckpointing(),
                                spec.getTraining().getMethod() == TrainingMethod.DPO
                                        || spec.getTraining().getMethod() == TrainingMethod.ORPO)));
                    }
                    return train(data, tokenizer, lora, gang.collective(), outputDir, reporter);
                }
            }
        } catch (RuntimeException | IOException | OutOfMemoryError e) {
            FailureClassifier.Classified failure = FailureClassifier.classify(e);
            return fail(reporter, failure.reason(), failure.message(), e);
        } finally {
            gang.collective().close();
            // before releasing a SIGTERM hook waiting on `finished`: closing flushes the last report to the ConfigMap
            sinks.forEach(ProgressSink::close);
            finished.countDown();
        }
    }

    /**
     * A warning when the job asks for GPUs and this process trains on the CPU (a CPU build of libtorch, or no CUDA
     * device visible): the run still works, an order of magnitude slower, and nothing else would say why.
     */
    static Optional<String> gpusNotUsed(int gpus, Device device) {
        if (gpus <= 0 || device.isGpu()) {
            return Optional.empty();
        }
        return Optional.of("warning: spec.resources.gpus is " + gpus + ", but libtorch sees no GPU here (a CPU "
                + "build of libtorch, or no CUDA device visible), so this run trains on the CPU, much more slowly; set "
                + "resources.gpus: 0 to train on the CPU on purpose, or run where a GPU is visible");
    }

    private static int elementBytes(Precision precision) {
        return precision == Precision.FP32 ? 4 : 2;
    }

    /** Every rank prepares the same data and report (its batchers deal its own share); rank 0 prints the report. */
    private PreparedDataset prepareData(ModelTokenizer tokenizer, int rank, int world) {
        FineTuneJobSpec spec = config.spec();
        PreparedDataset data = DatasetPipeline.prepare(spec.getDataset(), spec.getTraining(), tokenizer,
                Path.of(config.paths().datasetPath()),
                config.paths().evalPath() == null ? null : Path.of(config.paths().evalPath()), rank, world);
        if (rank == 0) {
            out.println(DatasetReportRenderer.render(data.report()));
        }
        return data;
    }

    /** model.name, else the source's repository (Qwen/Qwen3-0.6B), else the directory on the volume. */
    static String baseModelName(dev.finetune.api.v1alpha1.ModelSpec model) {
        if (model.getName() != null) {
            return model.getName();
        }
        if (model.getSource() != null) {
            return switch (dev.finetune.api.source.Source.parse(model.getSource(), "spec.model.source")) {
                case dev.finetune.api.source.HubRepo repo -> repo.id();
                case dev.finetune.api.source.OciRef ref -> ref.registry() + "/" + ref.repository();
            };
        }
        return model.getPvc().getPath();
    }

    private Result train(PreparedDataset data, ModelTokenizer tokenizer, LoraModel lora, Collective collective,
            Path outputDir, RunReporter reporter) throws IOException {
        FineTuneJobSpec spec = config.spec();
        TrainingSpec t = spec.getTraining();
        String baseModel = baseModelName(spec.getModel());
        boolean leader = collective.rank() == 0;
        RunOutputs outputs = new RunOutputs(outputDir, baseModel, spec.getOutput(), reporter);
        List<double[]> stepLosses = new ArrayList<>();
        TrainingListener lossCurve = new TrainingListener() {
            @Override
            public void onStep(Trainer tr, StepMetrics m) {
                stepLosses.add(new double[] {m.step(), m.loss()});
            }
        };
        Trainer.Options options = Trainer.Options.defaults().withCollective(collective).withLearningRateScale(epoch -> {
            Double stageLr = data.stageAt(epoch).learningRate();
            return stageLr == null ? 1.0 : stageLr / t.getLearningRate();
        });
        if (t.getMethod() == TrainingMethod.DPO) {
            options = options.withPreference(PreferenceLoss.dpo(t.effectiveDpo()));
        } else if (t.getMethod() == TrainingMethod.ORPO) {
            options = options.withPreference(PreferenceLoss.orpo(t.effectiveOrpo()));
        }
        Trainer trainer = new Trainer(lora, TrainingSettings.of(t, data.totalEpochs()), data.trainBatches(),
                data.evalBatches(), leader ? List.of(reporter, outputs, lossCurve) : List.of(), options);
        resume(trainer, outputDir, reporter, leader);
        this.trainer = trainer;

        TextGenerator generator = new TextGenerator(lora.base(), tokenizer);
        List<SamplePrompt> prompts = leader ? SamplePrompt.from(data, tokenizer, t.getSamplePrompts()) : List.of();
        Generator.Options greedy = Generator.Options.greedy(t.getSampleMaxNewTokens());
        List<String> before = prompts.stream().map(p -> generator.continuation(p.ids(), greedy)).toList();
        long start = System.nanoTime();
        TrainingState end = trainer.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (leader) {
            // before anything final is written: a failure here leaves the lineage as its checkpoints left it
            RunArtifacts.requireTrained(lora, end);
        }
        List<String> after = prompts.stream().map(p -> generator.continuation(p.ids(), greedy)).toList();
        if (!leader) {
            out.println("rank " + collective.rank() + " done at step " + end.globalStep());
            return new Result(0, reporter.finalReport(TrainerState.SUCCEEDED, null));
        }

        reporter.publish(TrainerState.CHECKPOINTING, null);
        List<TrainingReport.Sample> samples = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            samples.add(new TrainingReport.Sample(prompts.get(i).text(), prompts.get(i).reference(), before.get(i),
                    after.get(i)));
        }
        RunArtifacts artifacts = new RunArtifacts(config, outputDir, baseModel, out);
        Outputs written = artifacts.write(lora, outputs, new RunArtifacts.Trained(end, seconds, stepLosses, samples,
                data.report().packing()));
        PushSpec push = spec.getOutput().getPush();
        if (push != null) {
            OutputPublisher.Pushed pushed = OutputPublisher.publish(push, config.job().name(), outputs.finalAdapter(),
                    written.getMerged() == null ? null : outputDir.resolve(written.getMerged()), System.getenv());
            written.setPushedAdapter(pushed.adapter());
            out.println("pushed adapter: " + pushed.adapter());
            if (pushed.merged() != null) {
                written.setPushedMerged(pushed.merged());
                out.println("pushed merged model: " + pushed.merged());
            }
        }
        reporter.outputs(written);
        reporter.publish(TrainerState.SUCCEEDED, null);
        for (int i = 0; i < samples.size(); i++) {
            out.println("sample " + (i + 1) + " prompt: " + oneLine(samples.get(i).prompt()));
            out.println("  before: " + oneLine(samples.get(i).before()));
            out.println("  after:  " + oneLine(samples.get(i).after()));
        }
        out.println("adapter: " + outputs.finalAdapter());
        if (outputs.bestWritten()) {
            out.println("best adapter: " + outputs.bestAdapter());
        }
        out.println("report: " + artifacts.report());
        out.println("manifest: " + artifacts.manifest());
        ProgressReport finalReport = reporter.finalReport(TrainerState.SUCCEEDED, null);
        TerminationLog.write(TerminationLog.path(), finalReport);
        return new Result(0, finalReport);
    }

    /**
     * A fresh start (no resumeFrom) over an earlier run: that run moves to {@code previous-runs/<UTC time>/}, so its
     * checkpoints are neither resumed nor mixed with this run's by retention.
     */
    private void startFreshLineage(Path outputDir) {
        List<String> entries = RunLineage.entries(outputDir);
        RunLineage.moveAside(outputDir, java.time.Instant.now()).ifPresent(moved -> out.println(
                "starting a fresh run: the earlier run's outputs (" + RunLineage.describe(moved, entries) + ") moved to "
                        + moved));
    }

    /**
     * Re-running a finished job: nothing is trained and no output changes; the finished run is reported (with what
     * differs when the job's spec or dataset changed since) and the run succeeds.
     */
    private Result alreadyFinished(RunLineage.Finished done, Path outputDir, int rank) {
        ProgressReport report = previousReport(outputDir);
        if (rank != 0) {
            return new Result(0, report);
        }
        JsonNode m = done.content();
        out.println("finetune: job " + config.job().name() + " already finished in " + outputDir + " (" + done.steps()
                + " steps, best eval loss " + m.path("bestEvalLoss").asText("-") + " at epoch "
                + m.path("bestEpoch").asText("-") + ", " + m.path("finished").asText("at an unrecorded time")
                + "); nothing trained, no output changed");
        JsonNode outputs = m.path("outputs");
        for (String[] key : new String[][] {{"adapter", "adapter"}, {"bestAdapter", "best adapter"}, {"merged", "merged model"},
                {"report", "report"}}) {
            if (outputs.hasNonNull(key[0])) {
                out.println("  " + key[1] + ": " + outputDir.resolve(outputs.get(key[0]).asText()));
            }
        }
        out.println("  manifest: " + done.manifest());
        String datasetSha = m.path("dataset").path("sha256").asText(null);
        Path dataset = Path.of(config.paths().datasetPath());
        if (datasetSha != null && Files.exists(dataset) && !datasetSha.equals(RunArtifacts.sha256(RunArtifacts.files(dataset)))) {
            out.println("note: the dataset " + dataset + " changed since the finished run (its SHA-256 differs)");
        }
        out.println("to train again from the start: finetune run --resume none (moves this run to "
                + outputDir.resolve(RunLineage.PREVIOUS) + "/<UTC time>/), or choose another spec.output path");
        TerminationLog.write(TerminationLog.path(), report);
        return new Result(0, report);
    }

    /** The finished run's last progress report (its progress.json), or a bare SUCCEEDED one without it. */
    private ProgressReport previousReport(Path outputDir) {
        TrainerConfig.ProgressChannel channel = config.progress();
        Path file = channel != null && channel.file() != null ? Path.of(channel.file()) : outputDir.resolve("progress.json");
        try {
            ProgressReport previous = TrainerJson.json().readValue(file.toFile(), ProgressReport.class);
            if (previous != null && previous.state() == TrainerState.SUCCEEDED) {
                return previous.withoutHistory();
            }
        } catch (IOException | RuntimeException unreadable) {
            // reported as a bare success below
        }
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, 0, config.attempt(), TrainerState.SUCCEEDED, null,
                List.of(), null, null, null);
    }

    /**
     * Restores the checkpoint the config names. With {@code latest} it is the newest one whose files match their
     * checksums: each newer, corrupt one is skipped with a warning (an Event on the job), and with none intact the
     * run starts from step 0. A checkpoint named by the operator (a gang restart) falls back the same way; one named
     * on the command line must be intact. Every rank verifies the same files, so the gang agrees on where it resumes.
     */
    private void resume(Trainer trainer, Path outputDir, RunReporter reporter, boolean leader) {
        String from = config.resumeFrom();
        if (from == null || from.isBlank()) {
            return;
        }
        Path checkpoint;
        if (from.equals(RESUME_LATEST)) {
            TrainingCheckpoint.Resumable resumable = TrainingCheckpoint.latestIntact(outputDir);
            if (leader && !resumable.rejected().isEmpty()) {
                reporter.warn(new TrainerWarning(TrainerWarning.CHECKPOINT_CORRUPT,
                        corruptCheckpoints(outputDir, resumable)));
            }
            if (resumable.checkpoint().isEmpty()) {
                return;
            }
            checkpoint = resumable.checkpoint().get();
        } else {
            checkpoint = outputDir.resolve(from);
            if (!Files.isRegularFile(checkpoint.resolve(TrainingCheckpoint.STATE))) {
                throw new TrainingException(FailureReason.BAD_CONFIG, "resumeFrom " + from + ": " + checkpoint
                        + " is not a checkpoint");
            }
            var problem = TrainingCheckpoint.verify(checkpoint);
            if (problem.isPresent() && !operatorLaunched()) {
                throw new TrainingException(FailureReason.BAD_CONFIG, "resumeFrom " + from + ": the checkpoint is corrupt: "
                        + problem.get() + "; resume from another checkpoint, or from the newest intact one with "
                        + "resumeFrom: latest (`finetune run --resume latest`)");
            }
            if (problem.isPresent()) {
                // a restart the operator made names the job's last checkpoint: it falls back like latest does
                TrainingCheckpoint.Resumable resumable = TrainingCheckpoint.intactAtOrBefore(outputDir,
                        TrainingCheckpoint.stepOf(checkpoint));
                if (leader) {
                    reporter.warn(new TrainerWarning(TrainerWarning.CHECKPOINT_CORRUPT, corruptCheckpoints(outputDir, resumable)));
                }
                if (resumable.checkpoint().isEmpty()) {
                    return;
                }
                checkpoint = resumable.checkpoint().get();
            }
        }
        try {
            TrainingCheckpoint.restore(checkpoint, trainer);
        } catch (IllegalArgumentException e) {
            throw new TrainingException(FailureReason.BAD_CONFIG, "cannot resume from " + checkpoint + ": " + e.getMessage()
                    + "; the checkpoint was made with different LoRA settings. Use another output path, or "
                    + "`finetune run --resume none` to start over", e);
        }
        out.println("resumed from " + checkpoint + " at step " + trainer.state().globalStep() + " (epoch "
                + (trainer.state().epoch() + 1) + ")");
    }

    /** One sentence for the skipped checkpoints: which, why, and where the run resumes instead. */
    static String corruptCheckpoints(Path outputDir, TrainingCheckpoint.Resumable resumable) {
        StringBuilder text = new StringBuilder();
        for (TrainingCheckpoint.Rejected r : resumable.rejected()) {
            text.append(text.isEmpty() ? "" : "; ").append("checkpoint ").append(outputDir.relativize(r.checkpoint()))
                    .append(" is corrupt: ").append(r.problem());
        }
        text.append(resumable.checkpoint()
                .map(c -> "; resuming from " + outputDir.relativize(c) + " instead")
                .orElse("; no intact checkpoint is left, so the run starts again from step 0"));
        return text.toString();
    }

    private List<ProgressSink> sinks(Path outputDir) {
        List<ProgressSink> sinks = new ArrayList<>();
        TrainerConfig.ProgressChannel channel = config.progress();
        Path file = channel != null && channel.file() != null ? Path.of(channel.file()) : outputDir.resolve("progress.json");
        sinks.add(new FileProgressSink(file));
        if (channel != null && channel.configMapName() != null) {
            try {
                sinks.add(ConfigMapProgressSink.inCluster(channel.namespace(), channel.configMapName(), channel.key()));
            } catch (IOException e) {
                System.err.println("warning: progress ConfigMap unavailable (" + e.getMessage() + "); reporting to "
                        + file + " only");
            }
        }
        return sinks;
    }

    private Result fail(RunReporter reporter, FailureReason reason, String message, Throwable cause) {
        String hint = operatorLaunched() ? reason.hint() : reason.localHint();
        Failure failure = new Failure(reason, message, hint);
        System.err.println("finetune: " + reason + ": " + message);
        System.err.println("hint: " + hint);
        if (reason == FailureReason.INTERNAL) {
            cause.printStackTrace();
        }
        reporter.publish(TrainerState.FAILED, failure);
        ProgressReport report = reporter.finalReport(TrainerState.FAILED, failure);
        TerminationLog.write(TerminationLog.path(), report);
        return new Result(reason.exitCode(), report);
    }

    /** Launched by the operator (a member of its gang, reporting to a ConfigMap), not a local {@code finetune run}. */
    private boolean operatorLaunched() {
        return config.progress() != null && config.progress().configMapName() != null;
    }

    private static String oneLine(String s) {
        String flat = s.replace('\n', ' ').strip();
        return flat.length() > 160 ? flat.substring(0, 157) + "..." : flat;
    }
}
