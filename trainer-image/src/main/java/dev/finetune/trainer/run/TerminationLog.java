package dev.finetune.trainer.run;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The container's termination message: the kubelet shows the content of this file as the container's
 * termination message, and the operator reads the trainer's final {@link ProgressReport} from it.
 * Several ranks in one container would overwrite each other's file, so the launcher points each rank at
 * a file of its own ({@value #PATH_ENV}) and publishes one report for the pod.
 */
public final class TerminationLog {

    /** Overrides where a process writes its termination message (the launcher sets it for each rank). */
    public static final String PATH_ENV = "FINETUNE_TERMINATION_LOG";
    /** The kubelet's default {@code terminationMessagePath}. */
    public static final Path KUBELET_DEFAULT = Path.of("/dev/termination-log");

    private TerminationLog() {
    }

    /** Where this process writes its termination message. */
    public static Path path() {
        String override = System.getenv(PATH_ENV);
        return override == null || override.isBlank() ? KUBELET_DEFAULT : Path.of(override);
    }

    /**
     * Writes the report without its history when the file exists (the kubelet creates it; outside a
     * container there is none and nothing is written). The kubelet keeps only
     * {@link ProgressReport#TERMINATION_MESSAGE_LIMIT} bytes, so an over-long failure message is shortened
     * first: a cut JSON document would not parse and the operator would lose the reason.
     */
    public static void write(Path log, ProgressReport report) {
        if (!Files.exists(log)) {
            return;
        }
        ProgressReport slim = report.withoutHistory();
        String json = TrainerJson.write(slim);
        if (json.length() > ProgressReport.TERMINATION_MESSAGE_LIMIT && slim.warnings() != null) {
            // the warnings were published to the progress ConfigMap already; the failure matters more here
            slim = new ProgressReport(slim.schemaVersion(), slim.sequence(), slim.attempt(), slim.state(), slim.progress(),
                    slim.history(), slim.lastCheckpoint(), slim.outputs(), slim.failure(), slim.memory(), null);
            json = TrainerJson.write(slim);
        }
        Failure f = report.failure();
        String message = f == null ? null : f.message();
        // escapes make the JSON longer than the text: cut again until it fits
        while (json.length() > ProgressReport.TERMINATION_MESSAGE_LIMIT && message != null && !message.isEmpty()) {
            int overflow = json.length() - ProgressReport.TERMINATION_MESSAGE_LIMIT;
            message = message.substring(0, Math.max(0, message.length() - overflow - 3));
            json = TrainerJson.write(withFailure(slim, new Failure(f.reason(), message + "...", f.hint())));
        }
        if (json.length() > ProgressReport.TERMINATION_MESSAGE_LIMIT) {
            json = json.substring(0, ProgressReport.TERMINATION_MESSAGE_LIMIT);
        }
        try {
            Files.writeString(log, json);
        } catch (IOException e) {
            System.err.println("warning: cannot write " + log + ": " + e.getMessage());
        }
    }

    /** The report in {@code file}; empty when the file is missing, empty, or not a report (a crashed writer). */
    public static Optional<ProgressReport> read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return Optional.empty();
            }
            String text = Files.readString(file);
            if (text.isBlank()) {
                return Optional.empty();
            }
            return Optional.ofNullable(TrainerJson.read(text, ProgressReport.class));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The same report, failed with {@code failure}. */
    public static ProgressReport withFailure(ProgressReport report, Failure failure) {
        return new ProgressReport(report.schemaVersion(), report.sequence(), report.attempt(),
                dev.finetune.api.trainer.TrainerState.FAILED, report.progress(), report.history(), report.lastCheckpoint(),
                report.outputs(), failure, report.memory(), report.warnings());
    }
}
