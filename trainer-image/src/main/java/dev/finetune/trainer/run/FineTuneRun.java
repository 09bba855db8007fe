package dev.finetune.trainer.run;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.LoraSpec;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.checkpoint.MergedModelWriter;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.checkpoint.TrainingReport;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.curriculum.StagePlan;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.progress.ConfigMapProgressSink;
import dev.finetune.trainer.progress.FileProgressSink;
import dev.finetune.trainer.progress.ProgressSink;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.Batch;
import dev.finetune.trainer.train.EvalRecord;
import dev.finetune.trainer.train.LrSchedule;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingException;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import dev.finetune.trainer.train.TrainingState;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One fine-tuning run, from a {@link TrainerConfig} to an adapter (the recipe: setup, train, save).
 * The same code runs in a worker pod and under {@code finetune run}. Every failure ends in a
 * {@link FailureReason}, a final progress report and the reason's exit code.
 */
public final class FineTuneRun {

    /** How the run ended. */
    public record Result(int exitCode, ProgressReport report) {}

    private final TrainerConfig config;
    private final PrintStream out;
    private volatile Trainer trainer;
    private dev.finetune.trainer.dist.Collective collective = dev.finetune.trainer.dist.Collective.single();
    private final CountDownLatch finished = new CountDownLatch(1);

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
        // only rank 0 reports and writes outputs
        List<ProgressSink> sinks = rank == 0 ? sinks(outputDir) : List.of();
        FineTuneJobSpec spec = config.spec();
        List<StagePlan> stagesForNames = new ArrayList<>();
        RunReporter reporter = new RunReporter(sinks, out, config.attempt(),
                epoch -> stagesForNames.isEmpty() || stagesForNames.size() == 1 ? null : stageName(stagesForNames, epoch));
        try {
            Files.createDirectories(outputDir);
            reporter.initializing("finetune: job " + config.job().name() + ", attempt " + config.attempt()
                    + ", output " + outputDir);
            ai.djl.Device device = null; // null: DJL's default device (a single process)
            if (world > 1) {
                device = joinGang(rank, world);
            }
            LoraSettings loraSettings = loraSettings(spec.getLora());
            Path modelDir = Path.of(config.paths().modelDir());
            PreparedDataset data = DatasetPipeline.prepare(spec.getDataset(), spec.getTraining(), modelDir,
                    Path.of(config.paths().datasetPath()),
                    config.paths().evalPath() == null ? null : Path.of(config.paths().evalPath()), rank, world);
            stagesForNames.addAll(data.stages());
            if (rank == 0) { // every rank prepares the same report: one copy in the pod logs is enough
                out.println(DatasetReportRenderer.render(data.report()));
            }
            try (NDManager manager = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
                    Kernels kernels = Kernels.load(manager);
                    DecoderModel model = DecoderModel.load(modelDir, dtype(spec.getTraining()), manager, kernels);
                    LoraModel lora = LoraModel.attach(model, loraSettings, spec.getTraining().getSeed())) {
                if (rank == 0) {
                    out.println("model: " + model.config().modelType() + ", " + model.config().numLayers() + " layers, hidden "
                            + model.config().hiddenSize() + ", " + spec.getTraining().getPrecision().name().toLowerCase(Locale.ROOT));
                    out.println(lora.trainableSummary());
                }
                return train(spec, data, model, lora, outputDir, reporter);
            }
        } catch (TrainingException e) {
            return fail(reporter, FailureReason.valueOf(e.reason()), e.getMessage(), e);
        } catch (dev.finetune.trainer.dist.CommunicationException e) {
            return fail(reporter, FailureReason.COMMUNICATION, e.getMessage(), e);
        } catch (DatasetException e) {
            // the message already ends with "(fix: <hint>)"
            return fail(reporter, FailureReason.BAD_DATA, e.getMessage(), e);
        } catch (ModelFormatException | SafetensorsException e) {
            return fail(reporter, FailureReason.BAD_MODEL, e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            return fail(reporter, FailureReason.BAD_CONFIG, e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            return fail(reporter, FailureReason.OUT_OF_MEMORY, "Java heap exhausted: " + e.getMessage(), e);
        } catch (RuntimeException | IOException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("out of memory") || message.contains("can't allocate memory")
                    || message.contains("not enough memory") || message.contains("CUDA out of memory")) {
                return fail(reporter, FailureReason.OUT_OF_MEMORY, message, e);
            }
            return fail(reporter, FailureReason.INTERNAL, e.getClass().getSimpleName() + ": " + message, e);
        } finally {
            collective.close();
            // before releasing a SIGTERM hook waiting on `finished`: closing flushes the last report to the ConfigMap
            sinks.forEach(ProgressSink::close);
            finished.countDown();
        }
    }

    /**
     * Connects this process to the other ranks: a TCP group on CPU workers, NCCL (with the TCP group for
     * rendezvous and small sums) across GPUs, where each process trains on GPU {@code LOCAL_RANK}. Returns the
     * device to train on, or null for DJL's default. A machine that cannot run a GPU process fails with
     * BAD_CONFIG before it joins.
     */
    private ai.djl.Device joinGang(int rank, int world) {
        TrainerConfig.Distributed d = config.distributed();
        java.time.Duration rendezvous = dev.finetune.trainer.dist.GangTimeouts.rendezvous(System.getenv());
        java.time.Duration collectiveTimeout = dev.finetune.trainer.dist.GangTimeouts.collective(System.getenv());
        switch (d.backend()) {
            case "tcp" -> {
                collective = dev.finetune.trainer.dist.TcpCollective.connect(rank, world, d.rendezvousHost(),
                        d.rendezvousPort(), rendezvous, collectiveTimeout);
                out.println("rank " + rank + " of " + world + " connected");
                return null;
            }
            case "nccl" -> {
                int localRank = localRank();
                try {
                    dev.finetune.trainer.dist.NcclCollective nccl = dev.finetune.trainer.dist.NcclCollective.connect(
                            new dev.finetune.trainer.dist.NcclCollective.Settings(rank, world, d.rendezvousHost(),
                                    d.rendezvousPort(), localRank, rendezvous, collectiveTimeout),
                            dev.finetune.trainer.dist.nccl.NativeLibraryLocator.ofProcess());
                    collective = nccl;
                    out.println("rank " + rank + " of " + world + " connected (NCCL, GPU " + localRank + ")");
                    return nccl.device();
                } catch (dev.finetune.trainer.dist.GpuEnvironmentException e) {
                    throw new TrainingException("BAD_CONFIG", "rank " + rank + ": this machine cannot run a GPU "
                            + "worker: " + e.getMessage(), e);
                }
            }
            default -> throw new TrainingException("BAD_CONFIG", "distributed.backend " + d.backend()
                    + " is not one of tcp (CPU workers), nccl (GPUs)");
        }
    }

    /** The GPU of this process on its node (set per process by the launcher; 0 for one process per pod). */
    private static int localRank() {
        String value = System.getenv().getOrDefault("LOCAL_RANK", "0");
        try {
            int localRank = Integer.parseInt(value.strip());
            if (localRank >= 0) {
                return localRank;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TrainingException("BAD_CONFIG", "LOCAL_RANK=" + value + " is not a GPU index (0, 1, ...)");
    }

    private Result train(FineTuneJobSpec spec, PreparedDataset data, DecoderModel model, LoraModel lora, Path outputDir,
            RunReporter reporter) throws IOException {
        TrainingSpec t = spec.getTraining();
        DataBatches batches = new DataBatches(data);
        List<Batch> eval = DataBatches.eval(data);
        TrainingSettings settings = trainingSettings(t, batches.totalEpochs());
        String baseModel = spec.getModel().getName() != null ? spec.getModel().getName() : spec.getModel().getPvc().getPath();
        boolean leader = collective.rank() == 0;
        RunOutputs outputs = new RunOutputs(outputDir, baseModel, spec.getOutput().getKeepCheckpoints(),
                spec.getOutput().isSaveEveryEpoch(), reporter, out);
        List<double[]> stepLosses = new ArrayList<>();
        TrainingListener lossCurve = new TrainingListener() {
            @Override
            public void onStep(Trainer tr, StepMetrics m) {
                stepLosses.add(new double[] {m.step(), m.loss()});
            }
        };
        Trainer trainer = new Trainer(lora, settings, batches, eval,
                leader ? List.of(reporter, outputs, lossCurve) : List.of());
        trainer.setCollective(collective);
        trainer.setLearningRateScale(epoch -> {
            Double stageLr = batches.stageOf(epoch).learningRate();
            return stageLr == null ? 1.0 : stageLr / t.getLearningRate();
        });
        resume(trainer, outputDir);
        this.trainer = trainer;

        List<SamplePrompt> prompts = leader ? samplePrompts(data, t.getSamplePrompts()) : List.of();
        List<String> before = generate(model, data, prompts, t.getSampleMaxNewTokens());
        long start = System.nanoTime();
        TrainingState end = trainer.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        List<String> after = generate(model, data, prompts, t.getSampleMaxNewTokens());
        if (!leader) {
            out.println("rank " + collective.rank() + " done at step " + end.globalStep());
            return new Result(0, reporter.finalReport(TrainerState.SUCCEEDED, null));
        }

        reporter.publish(TrainerState.CHECKPOINTING, null);
        PeftAdapter.write(outputs.finalAdapter(), lora, baseModel, false);
        Outputs written = new Outputs();
        written.setAdapter(outputDir.relativize(outputs.finalAdapter()).toString());
        if (outputs.bestWritten()) {
            written.setBestAdapter(outputDir.relativize(outputs.bestAdapter()).toString());
        }
        if (spec.getOutput().isMerge()) {
            Path merged = outputDir.resolve("merged");
            MergedModelWriter.write(lora, merged);
            written.setMerged(outputDir.relativize(merged).toString());
            out.println("merged model: " + merged);
        }
        List<TrainingReport.Sample> samples = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            samples.add(new TrainingReport.Sample(prompts.get(i).text, prompts.get(i).reference, before.get(i), after.get(i)));
        }
        Path report = outputDir.resolve("report.html");
        String summary = String.format(Locale.ROOT, "%s on %s: %d steps in %.0f s; best eval loss %s (epoch %s); %s",
                config.job().name(), baseModel, end.globalStep(), seconds,
                end.bestEvalLoss() == null ? "-" : String.format(Locale.ROOT, "%.4f", end.bestEvalLoss()),
                end.bestEpoch() == null ? "-" : end.bestEpoch(), lora.trainableSummary());
        TrainingReport.write(report, "Fine-tuning report: " + config.job().name(), end.history(), stepLosses, samples, summary);
        written.setReport(outputDir.relativize(report).toString());
        Path manifest = outputDir.resolve("manifest.json");
        writeManifest(manifest, spec, model, lora, end, written, seconds);
        written.setManifest(outputDir.relativize(manifest).toString());
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
        out.println("report: " + report);
        out.println("manifest: " + manifest);
        ProgressReport finalReport = reporter.finalReport(TrainerState.SUCCEEDED, null);
        writeTerminationMessage(finalReport);
        return new Result(0, finalReport);
    }

    private void resume(Trainer trainer, Path outputDir) {
        String from = config.resumeFrom();
        if (from == null || from.isBlank()) {
            return;
        }
        Path checkpoint;
        if (from.equals("latest")) {
            var latest = TrainingCheckpoint.latest(outputDir);
            if (latest.isEmpty()) {
                return;
            }
            checkpoint = latest.get();
        } else {
            checkpoint = outputDir.resolve(from);
            if (!Files.isRegularFile(checkpoint.resolve(TrainingCheckpoint.STATE))) {
                throw new TrainingException("BAD_CONFIG", "resumeFrom " + from + ": " + checkpoint + " is not a checkpoint");
            }
        }
        try {
            TrainingCheckpoint.restore(checkpoint, trainer);
        } catch (IllegalArgumentException e) {
            throw new TrainingException("BAD_CONFIG", "cannot resume from " + checkpoint + ": " + e.getMessage()
                    + "; the checkpoint was made with different LoRA settings. Use another output path, or "
                    + "`finetune run --resume none` to start over", e);
        }
        out.println("resumed from " + checkpoint + " at step " + trainer.state().globalStep() + " (epoch "
                + (trainer.state().epoch() + 1) + ")");
    }

    private record SamplePrompt(int[] ids, String text, String reference) {}

    private List<SamplePrompt> samplePrompts(PreparedDataset data, int count) {
        List<TokenizedSample> pool = data.eval().isEmpty() ? data.train() : data.eval();
        List<SamplePrompt> out = new ArrayList<>();
        if (count <= 0) {
            return out;
        }
        try (ModelTokenizer tokenizer = ModelTokenizer.load(Path.of(config.paths().modelDir()))) {
            for (TokenizedSample s : pool) {
                if (out.size() >= count) {
                    break;
                }
                int first = -1;
                for (int i = 0; i < s.labels().length; i++) {
                    if (s.labels()[i] != Batch.IGNORE) {
                        first = i;
                        break;
                    }
                }
                if (first <= 0) {
                    continue;
                }
                int[] prompt = java.util.Arrays.copyOf(s.inputIds(), first);
                int end = first;
                while (end < s.labels().length && s.labels()[end] != Batch.IGNORE) {
                    end++;
                }
                int[] answer = java.util.Arrays.copyOfRange(s.inputIds(), first, end);
                out.add(new SamplePrompt(prompt, tokenizer.decode(prompt), tokenizer.decode(answer)));
            }
        }
        return out;
    }

    private List<String> generate(DecoderModel model, PreparedDataset data, List<SamplePrompt> prompts, int maxNewTokens) {
        List<String> texts = new ArrayList<>();
        if (prompts.isEmpty()) {
            return texts;
        }
        Set<Long> stops = data.specialTokens().stopIds().stream().map(Integer::longValue).collect(Collectors.toSet());
        try (ModelTokenizer tokenizer = ModelTokenizer.load(Path.of(config.paths().modelDir()))) {
            Generator generator = new Generator(model);
            for (SamplePrompt p : prompts) {
                long[] ids = java.util.Arrays.stream(p.ids()).asLongStream().toArray();
                List<Long> generated = generator.generate(ids, Generator.Options.greedy(maxNewTokens), stops);
                int[] tokens = generated.stream().filter(id -> !stops.contains(id)).mapToInt(Long::intValue).toArray();
                texts.add(tokenizer.decode(tokens));
            }
        }
        return texts;
    }

    static LoraSettings loraSettings(LoraSpec spec) {
        List<String> targets = spec.resolvedTargetModules().stream().map(TargetModule::moduleName).toList();
        if (spec.getTargetModules() != null && spec.getTargetModules().contains(TargetModule.ALL_LINEAR)) {
            targets = List.of(LoraSettings.ALL_LINEAR);
        }
        String bias = switch (spec.getBias() == null ? LoraBias.NONE : spec.getBias()) {
            case NONE -> "none";
            case ALL -> "all";
            case LORA_ONLY -> "lora_only";
        };
        return new LoraSettings(spec.getRank(), spec.getAlpha(), spec.getDropout(), targets, bias, spec.isUseRslora(),
                spec.isUseDora(), spec.getInitWeights() == LoraInit.GAUSSIAN);
    }

    static TrainingSettings trainingSettings(TrainingSpec t, int epochs) {
        LrSchedule.Kind kind = switch (t.getScheduler()) {
            case COSINE -> LrSchedule.Kind.COSINE;
            case LINEAR -> LrSchedule.Kind.LINEAR;
            case CONSTANT -> LrSchedule.Kind.CONSTANT;
        };
        Double ratio = t.getWarmupSteps() == null
                ? (t.getWarmupRatio() != null ? t.getWarmupRatio() : TrainingSpec.DEFAULT_WARMUP_RATIO) : null;
        int patience = t.getEarlyStopping() == null ? 0 : t.getEarlyStopping().getPatience();
        double minDelta = t.getEarlyStopping() == null ? 0 : t.getEarlyStopping().getMinDelta();
        return new TrainingSettings(epochs, t.getLearningRate(), kind, t.getWarmupSteps(), ratio,
                t.getGradientAccumulationSteps(), t.getMaxGradNorm(), t.getWeightDecay(), t.isGradientCheckpointing(),
                t.getSeed(), t.getLogEverySteps(), t.getEvalEverySteps() == null ? 0 : t.getEvalEverySteps(),
                t.getMaxSteps() == null ? 0 : t.getMaxSteps(), patience, minDelta);
    }

    static DataType dtype(TrainingSpec t) {
        return dev.finetune.trainer.model.ComputeDtype.parse(t.getPrecision().name());
    }

    private static String stageName(List<StagePlan> stages, int epoch) {
        int e = epoch;
        for (StagePlan s : stages) {
            if (e < s.epochs()) {
                return s.name();
            }
            e -= s.epochs();
        }
        return stages.getLast().name();
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
        Failure failure = new Failure(reason, message, reason.hint());
        System.err.println("finetune: " + reason + ": " + message);
        System.err.println("hint: " + reason.hint());
        if (reason == FailureReason.INTERNAL) {
            cause.printStackTrace();
        }
        reporter.publish(TrainerState.FAILED, failure);
        ProgressReport report = reporter.finalReport(TrainerState.FAILED, failure);
        writeTerminationMessage(report);
        return new Result(reason.exitCode(), report);
    }

    /** The kubelet shows the termination log as the container's termination message. */
    private static void writeTerminationMessage(ProgressReport report) {
        TerminationLog.write(TerminationLog.path(), report);
    }

    private void writeManifest(Path file, FineTuneJobSpec spec, DecoderModel model, LoraModel lora, TrainingState end,
            Outputs outputs, double seconds) throws IOException {
        ObjectNode m = TrainerJson.json().createObjectNode();
        m.put("job", config.job().name());
        m.put("attempt", config.attempt());
        m.put("finished", Instant.now().toString());
        ObjectNode base = m.putObject("baseModel");
        base.put("name", spec.getModel().getName());
        base.put("path", config.paths().modelDir());
        base.put("modelType", model.config().modelType());
        base.put("parameters", model.parameterCount());
        base.put("configSha256", sha256(List.of(model.directory().resolve("config.json"))));
        ObjectNode dataset = m.putObject("dataset");
        dataset.put("path", config.paths().datasetPath());
        dataset.put("sha256", sha256(files(Path.of(config.paths().datasetPath()))));
        if (config.paths().evalPath() != null) {
            dataset.put("evalPath", config.paths().evalPath());
            dataset.put("evalSha256", sha256(files(Path.of(config.paths().evalPath()))));
        }
        m.set("spec", TrainerJson.json().valueToTree(spec));
        m.put("trainableParameters", lora.trainableParameterCount());
        m.put("steps", end.globalStep());
        if (end.lossScale() != null) {
            // fp16: steps whose gradients overflowed and whose update was skipped, and the final loss scale
            m.put("skippedSteps", end.lossScale().skippedSteps());
            m.put("lossScale", end.lossScale().scale());
        }
        m.put("trainSeconds", seconds);
        if (end.bestEvalLoss() != null) {
            m.put("bestEvalLoss", end.bestEvalLoss());
            m.put("bestEpoch", end.bestEpoch());
        }
        ArrayNode history = m.putArray("history");
        for (EvalRecord r : end.history()) {
            history.add(TrainerJson.json().valueToTree(r));
        }
        m.set("outputs", TrainerJson.json().valueToTree(outputs));
        m.put("trainer", "finetune-trainer (DJL " + ai.djl.engine.Engine.getDjlVersion() + ", PyTorch "
                + ai.djl.engine.Engine.getEngine("PyTorch").getVersion() + ")");
        TrainerJson.json().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), m);
    }

    private static List<Path> files(Path path) {
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        try (Stream<Path> walk = Files.walk(path)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(List<Path> files) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        digest.update(buffer, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String oneLine(String s) {
        String flat = s.replace('\n', ' ').strip();
        return flat.length() > 160 ? flat.substring(0, 157) + "..." : flat;
    }
}
