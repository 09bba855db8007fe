package dev.finetune.trainer.progress;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes each report to a file (progress.json in the output dir), atomically via a rename. */
public final class FileProgressSink implements ProgressSink {

    private final Path file;
    /** The last failure printed: the same one again (a full volume, each step) is not repeated until a write succeeds. */
    private String lastWarning;

    public FileProgressSink(Path file) {
        this.file = file;
    }

    @Override
    public void publish(ProgressReport report) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.writeString(tmp, TrainerJson.write(report), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            lastWarning = null;
        } catch (IOException | RuntimeException e) {
            String warning = "warning: cannot write progress to " + file + ": " + e.getMessage();
            if (!warning.equals(lastWarning)) {
                System.err.println(warning);
                lastWarning = warning;
            }
        }
    }
}
