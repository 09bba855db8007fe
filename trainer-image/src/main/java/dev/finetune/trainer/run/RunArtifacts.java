package dev.finetune.trainer.run;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.trainer.checkpoint.MergedModelWriter;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingReport;
import dev.finetune.trainer.data.report.DatasetReport;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.train.EvalRecord;
import dev.finetune.trainer.train.TrainingException;
import dev.finetune.trainer.train.TrainingState;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What a finished run leaves in its output directory (rank 0 only): the final PEFT adapter, the merged model
 * when the spec asks for one, {@code report.html} (loss curves, history, generations before and after) and
 * {@code manifest.json} (what was trained on what, with SHA-256 hashes of the base model's config and the
 * data, the figures and the outputs).
 */
final class RunArtifacts {

    /** The run as trained: its end state, wall time, per-step losses and sample generations. */
    record Trained(TrainingState end, double seconds, List<double[]> stepLosses, List<TrainingReport.Sample> samples,
            DatasetReport.Packing packing) {}

    private final TrainerConfig config;
    private final Path outputDir;
    private final String baseModel;
    private final PrintStream out;

    RunArtifacts(TrainerConfig config, Path outputDir, String baseModel, PrintStream out) {
        this.config = config;
        this.outputDir = outputDir;
        this.baseModel = baseModel;
        this.out = out;
    }

    /** Writes every artifact and returns their paths relative to the output directory. */
    /**
     * A run whose optimizer steps left every lora_B at zero trained nothing (its adapter would not change the model):
     * in fp16 when every step overflowed and was skipped (NAN_LOSS), otherwise a bug (INTERNAL). Checked before the
     * final outputs are written.
     */
    static void requireTrained(LoraModel lora, TrainingState end) {
        for (var e : lora.trainable().entrySet()) {
            if (e.getKey().endsWith(".lora_B.weight")) {
                for (float v : e.getValue().toFloatArray()) {
                    if (v != 0) {
                        return;
                    }
                }
            }
        }
        long steps = end.globalStep();
        if (steps > 0 && end.skippedSteps() >= steps) {
            throw new TrainingException(FailureReason.NAN_LOSS, "every one of the run's " + steps + " optimizer steps "
                    + "overflowed in fp16 and was skipped, so the adapter is unchanged (every lora_B is zero)");
        }
        throw new TrainingException(FailureReason.INTERNAL, "after " + steps + " optimizer steps every lora_B is still "
                + "zero, so the adapter would not change the model; no output was written beyond the checkpoints");
    }

    Outputs write(LoraModel lora, RunOutputs during, Trained run) {
        FineTuneJobSpec spec = config.spec();
        writing("the final adapter", during.finalAdapter(), () -> PeftAdapter.write(during.finalAdapter(), lora, baseModel, false));
        Outputs written = new Outputs();
        written.setAdapter(relative(during.finalAdapter()));
        if (during.bestWritten()) {
            written.setBestAdapter(relative(during.bestAdapter()));
        }
        if (spec.getOutput().isMerge()) {
            Path merged = outputDir.resolve("merged");
            writing("the merged model", merged, () -> MergedModelWriter.write(lora, merged));
            written.setMerged(relative(merged));
            out.println("merged model: " + merged);
        }
        TrainingState end = run.end();
        Path report = report();
        String summary = String.format(Locale.ROOT, "%s on %s: %d steps in %.0f s; best eval loss %s (epoch %s); %s",
                config.job().name(), baseModel, end.globalStep(), run.seconds(),
                end.bestEvalLoss() == null ? "-" : String.format(Locale.ROOT, "%.4f", end.bestEvalLoss()),
                end.bestEpoch() == null ? "-" : end.bestEpoch(), lora.trainableSummary());
        writing("the report", report, () -> TrainingReport.write(report, "Fine-tuning report: " + config.job().name(),
                end.history(), run.stepLosses(), run.samples(), summary));
        written.setReport(relative(report));
        Path manifest = manifest();
        writing("the manifest", manifest, () -> writeManifest(manifest, lora, run, written));
        written.setManifest(relative(manifest));
        return written;
    }

    /** A write into the output directory. */
    interface Write {
        void run() throws IOException;
    }

    /** Runs a write; an I/O failure becomes an {@link OutputWriteException} naming what and where. */
    static void writing(String what, Path where, Write write) {
        try {
            write.run();
        } catch (IOException e) {
            throw new OutputWriteException(what, where, e);
        } catch (UncheckedIOException e) {
            throw new OutputWriteException(what, where, e.getCause());
        }
    }

    Path report() {
        return outputDir.resolve("report.html");
    }

    Path manifest() {
        return outputDir.resolve("manifest.json");
    }

    private String relative(Path path) {
        return outputDir.relativize(path).toString();
    }

    private void writeManifest(Path file, LoraModel lora, Trained run, Outputs outputs) throws IOException {
        FineTuneJobSpec spec = config.spec();
        TrainingState end = run.end();
        ObjectNode m = TrainerJson.json().createObjectNode();
        m.put("job", config.job().name());
        m.put("attempt", config.attempt());
        m.put("finished", Instant.now().toString());
        ObjectNode base = m.putObject("baseModel");
        base.put("name", spec.getModel().getName());
        base.put("path", config.paths().modelDir());
        base.put("modelType", lora.base().config().modelType());
        base.put("parameters", lora.base().parameterCount());
        base.put("configSha256", sha256(List.of(lora.base().directory().resolve("config.json"))));
        ObjectNode dataset = m.putObject("dataset");
        dataset.put("path", config.paths().datasetPath());
        dataset.put("sha256", sha256(files(Path.of(config.paths().datasetPath()))));
        if (config.paths().evalPath() != null) {
            dataset.put("evalPath", config.paths().evalPath());
            dataset.put("evalSha256", sha256(files(Path.of(config.paths().evalPath()))));
        }
        // what the run did, also when spec.dataset.packing was left for the trainer to decide
        dataset.put("packed", run.packing().packed());
        dataset.put("packing", run.packing().reason());
        m.set("spec", TrainerJson.json().valueToTree(spec));
        m.put("trainableParameters", lora.trainableParameterCount());
        m.put("steps", end.globalStep());
        if (end.lossScale() != null) {
            // fp16: steps whose gradients overflowed and whose update was skipped, and the final loss scale
            m.put("skippedSteps", end.lossScale().skippedSteps());
            m.put("lossScale", end.lossScale().scale());
        }
        m.put("trainSeconds", run.seconds());
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

    /** The files of a dataset path in a stable order: the file itself, or a directory's files sorted. */
    static List<Path> files(Path path) {
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        try (Stream<Path> walk = Files.walk(path)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SHA-256 of the files' contents, one after the other. */
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
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
