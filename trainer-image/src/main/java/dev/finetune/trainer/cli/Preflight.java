package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.model.WeightStore;
import dev.finetune.trainer.run.FineTuneRun;
import dev.finetune.trainer.run.RunLineage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What can be checked before a run loads its weights, each check failing with a {@link CliException} that
 * names the path or field: the paths exist, the output directory can be written, an explicit checkpoint to
 * resume from exists, config.json and the safetensors headers parse, and the whole dataset reads and
 * tokenizes with the model's tokenizer and chat template.
 */
final class Preflight {

    private Preflight() {
    }

    /** The model directory has config.json, the dataset (and eval set) exist. */
    static void paths(TrainerConfig config) {
        Path model = Path.of(config.paths().modelDir());
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw CliException.of(FailureReason.BAD_MODEL, "model directory " + model + (Files.isDirectory(model)
                    ? " has no config.json" : Files.exists(model) ? " is a file, not a directory" : " does not exist"),
                    "check spec.model.pvc (the path inside the volume) and "
                    + "the --volume that maps its claim; " + FailureReason.BAD_MODEL.hint());
        }
        Path data = Path.of(config.paths().datasetPath());
        if (!Files.exists(data)) {
            throw CliException.of(FailureReason.BAD_DATA, "dataset " + data + " does not exist",
                    "check spec.dataset.pvc (the path inside the volume) and the --volume that maps its claim");
        }
        if (config.paths().evalPath() != null && !Files.exists(Path.of(config.paths().evalPath()))) {
            throw CliException.of(FailureReason.BAD_DATA, "eval dataset " + config.paths().evalPath() + " does not exist",
                    "check spec.dataset.evalPath (relative to the dataset's volume)");
        }
    }

    /**
     * Proves that the output directory can be created and written, by creating (and deleting) a file in it or
     * in its nearest existing parent. Nothing is left behind.
     */
    static void outputWritable(Path outputDir) {
        Path existing = outputDir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        String hint = "choose a writable output directory (spec.output.pvc, and the --volume that maps its claim) or fix "
                + "its permissions";
        if (existing == null) {
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "output directory " + outputDir + " cannot be created", hint);
        }
        if (!Files.isDirectory(existing)) {
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "output directory " + outputDir + " cannot be created: "
                    + existing + " is a file", hint);
        }
        try {
            Files.delete(Files.createTempFile(existing, ".finetune-write-check-", ""));
        } catch (IOException e) {
            String why = e instanceof java.nio.file.FileSystemException f
                    ? ": " + CliFailures.fileReason(f) : ": " + e.getMessage();
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "output directory " + outputDir + " is not writable (creating a "
                    + "file in " + existing + why + ")", hint);
        }
    }

    /** A named checkpoint to resume from ({@code --resume checkpoints/checkpoint-N}) exists in the output directory. */
    static void resumeCheckpoint(TrainerConfig config) {
        String from = config.resumeFrom();
        if (from == null || from.isBlank() || from.equals("latest")) {
            return;
        }
        Path checkpoint = Path.of(config.paths().outputDir()).resolve(from);
        if (!Files.isRegularFile(checkpoint.resolve(TrainingCheckpoint.STATE))) {
            List<String> existing = TrainingCheckpoint.list(Path.of(config.paths().outputDir())).stream()
                    .map(p -> TrainingCheckpoint.DIR + "/" + p.getFileName()).toList();
            throw CliException.usage("--resume " + from + ": " + checkpoint + " is not a checkpoint (no "
                    + TrainingCheckpoint.STATE + ")", existing.isEmpty()
                    ? "the output directory has no checkpoints yet; use --resume latest (the default) or none"
                    : "use latest, none, or one of " + existing);
        }
    }

    /**
     * What a run would do with the output directory's earlier run, when there is one: report it finished and change
     * nothing (resume latest), or move it to previous-runs/ (a fresh start).
     */
    static java.util.Optional<String> lineage(TrainerConfig config) {
        Path outputDir = Path.of(config.paths().outputDir());
        String from = config.resumeFrom();
        var done = FineTuneRun.RESUME_LATEST.equals(from) ? RunLineage.finished(outputDir) : java.util.Optional.<RunLineage.Finished>empty();
        if (done.isPresent()) {
            List<String> changes = done.get().specChanges(config.spec());
            return java.util.Optional.of(changes.isEmpty()
                    ? "note: " + outputDir + " holds a finished run of this job: a run would report it and change nothing "
                            + "(--resume none starts over, moving it to " + RunLineage.PREVIOUS + "/)"
                    : "note: " + outputDir + " holds a finished run of another spec (" + String.join("; ", changes)
                            + "): a run would continue it with this spec (--resume none starts over)");
        }
        List<String> entries = RunLineage.entries(outputDir);
        if ((from == null || from.isBlank()) && !entries.isEmpty()) {
            return java.util.Optional.of("note: " + outputDir + " holds an earlier run (" + String.join(", ", entries)
                    + "): a run with --resume none moves it to " + RunLineage.destination(outputDir, java.time.Instant.now())
                    .getParent() + "/<UTC time>/ and starts over");
        }
        return java.util.Optional.empty();
    }

    /** config.json parses and the safetensors headers (or the shard index) read: one line saying what the model is. */
    static String model(Path modelDir) {
        ModelConfig c = ModelConfig.read(modelDir);
        try (WeightStore store = WeightStore.open(modelDir)) {
            return String.format(Locale.ROOT, "%s, %d layers, hidden %d, vocab %d; %d tensors (weights not loaded)",
                    c.modelType(), c.numLayers(), c.hiddenSize(), c.vocabSize(), store.names().size());
        }
    }

    /** Reads and tokenizes the whole dataset as a run would (one process), without loading weights. */
    static PreparedDataset dataset(TrainerConfig config) {
        var spec = config.spec();
        try (ModelTokenizer tokenizer = ModelTokenizer.load(Path.of(config.paths().modelDir()))) {
            return DatasetPipeline.prepare(spec.getDataset(), spec.getTraining(), tokenizer,
                    Path.of(config.paths().datasetPath()),
                    config.paths().evalPath() == null ? null : Path.of(config.paths().evalPath()), 0, 1);
        }
    }
}
