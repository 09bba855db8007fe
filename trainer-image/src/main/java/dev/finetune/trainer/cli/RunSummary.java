package dev.finetune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.train.TrainingState;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code finetune inspect} of a run's output directory: how the run ended (progress.json), each checkpoint
 * with its step and epoch, and the evaluations of manifest.json.
 */
final class RunSummary {

    private RunSummary() {
    }

    static boolean isRunOutput(Path dir) {
        return Files.isRegularFile(dir.resolve("manifest.json")) || Files.isRegularFile(dir.resolve("progress.json"))
                || Files.isDirectory(dir.resolve(TrainingCheckpoint.DIR));
    }

    static void print(Path dir, PrintStream out) throws IOException {
        out.println("run output " + dir);
        ProgressReport progress = readProgress(dir.resolve("progress.json"));
        Integer totalEpochs = progress == null || progress.progress() == null ? null : progress.progress().getTotalEpochs();
        out.println("  ended: " + ending(progress));
        for (Path checkpoint : TrainingCheckpoint.list(dir)) {
            TrainingCheckpoint.SavedState s = TrainingCheckpoint.readState(checkpoint);
            out.printf(Locale.ROOT, "  %s: step %d/%d, %s, best eval loss %s%n", dir.relativize(checkpoint),
                    s.state().globalStep(), s.totalSteps(), epochText(s.state(), totalEpochs),
                    s.state().bestEvalLoss() == null ? "-" : String.format(Locale.ROOT, "%.4f", s.state().bestEvalLoss()));
        }
        Path manifest = dir.resolve("manifest.json");
        if (Files.isRegularFile(manifest)) {
            JsonNode m = TrainerJson.json().readTree(manifest.toFile());
            out.println("  best eval loss " + m.path("bestEvalLoss").asText("-") + " (epoch " + m.path("bestEpoch").asText("-") + ")");
            for (JsonNode h : m.path("history")) {
                out.printf(Locale.ROOT, "  epoch %s step %s: train %s eval %s ppl %s%n", h.path("epoch").asText(),
                        h.path("step").asText(), h.path("trainLoss").asText("-"), h.path("evalLoss").asText("-"),
                        h.path("perplexity").asText("-"));
            }
        }
    }

    /**
     * Where a checkpoint stands in epochs: a checkpoint taken at an epoch's end holds the next epoch's index
     * with no micro-batch done, so it reads "end of epoch N", not epoch N+1.
     */
    static String epochText(TrainingState s, Integer totalEpochs) {
        String of = totalEpochs == null ? "" : " of " + totalEpochs;
        if (s.nextBatch() == 0) {
            return s.epoch() == 0 ? "before epoch 1" : "end of epoch " + s.epoch() + of;
        }
        return "epoch " + (s.epoch() + 1) + of + " (" + s.nextBatch() + " micro-batches in)";
    }

    /** One line on how the run ended, from its last progress report. */
    static String ending(ProgressReport p) {
        if (p == null) {
            return "unknown (no progress.json)";
        }
        if (p.state() == TrainerState.SUCCEEDED) {
            return "succeeded" + (p.progress() == null || p.progress().getStep() == null ? ""
                    : " at step " + p.progress().getStep());
        }
        if (p.state() == TrainerState.FAILED && p.failure() != null) {
            return "failed: " + p.failure().reason() + " (exit " + p.failure().reason().exitCode() + "): "
                    + p.failure().message();
        }
        return "not finished: the last report says " + p.state().name().toLowerCase(Locale.ROOT)
                + " (a run still going, or one that was killed without a final report)";
    }

    private static ProgressReport readProgress(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return TrainerJson.json().readValue(file.toFile(), ProgressReport.class);
        } catch (IOException e) {
            return null;
        }
    }
}
