package dev.finetune.trainer.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.train.TrainingException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * How the CLI ends on an exception: classified by type into an exit code, one line naming what is wrong
 * and one with the fix. Types that stand for user mistakes never end as INTERNAL; anything else is a bug
 * in the trainer and is reported as one (stack trace, and where to report it).
 */
final class CliFailures {

    private CliFailures() {
    }

    /** A classified failure: exit code, the reason's label (BAD_DATA, ...; "usage" for 64), message and hint. */
    record Classified(int exitCode, String label, String message, String hint) {
        boolean internal() {
            return exitCode == FailureReason.INTERNAL.exitCode();
        }
    }

    static Classified classify(Throwable e) {
        return switch (e) {
            case CliException c -> new Classified(c.exitCode(), label(c.exitCode()), c.getMessage(), c.hint());
            // DatasetException's message ends with "(fix: ...)"
            case DatasetException d -> reason(FailureReason.BAD_DATA, d.getMessage(), null);
            case ModelFormatException m -> reason(FailureReason.BAD_MODEL, m.getMessage(), FailureReason.BAD_MODEL.hint());
            case SafetensorsException s -> reason(FailureReason.BAD_MODEL, s.getMessage(), FailureReason.BAD_MODEL.hint());
            case dev.finetune.trainer.run.OutputWriteException o when o.volumeFull() -> reason(
                    FailureReason.OUTPUT_VOLUME_FULL, o.getMessage(), FailureReason.OUTPUT_VOLUME_FULL.localHint());
            case dev.finetune.trainer.run.OutputWriteException o -> reason(FailureReason.OUTPUT_UNWRITABLE, o.getMessage(),
                    FailureReason.OUTPUT_UNWRITABLE.localHint());
            case TrainingException t -> {
                FailureReason r = t.reason();
                yield reason(r, t.getMessage(), r.localHint());
            }
            case JsonProcessingException j -> reason(FailureReason.BAD_CONFIG, "not valid JSON/YAML: " + j.getOriginalMessage()
                    + (j.getLocation() == null ? "" : " at line " + j.getLocation().getLineNr() + ", column "
                    + j.getLocation().getColumnNr()), "fix the syntax at that position");
            case java.io.UncheckedIOException u when u.getCause() instanceof FileSystemException f -> reason(
                    FailureReason.BAD_CONFIG, fileProblem(f), "check the path and its permissions");
            case FileSystemException f -> reason(FailureReason.BAD_CONFIG, fileProblem(f), "check the path and its permissions");
            case IllegalArgumentException i -> reason(FailureReason.BAD_CONFIG, i.getMessage(), null);
            case OutOfMemoryError o -> reason(FailureReason.OUT_OF_MEMORY, "Java heap exhausted: " + o.getMessage(),
                    FailureReason.OUT_OF_MEMORY.hint());
            default -> reason(FailureReason.INTERNAL, e.getClass().getName() + ": " + e.getMessage(),
                    FailureReason.INTERNAL.localHint());
        };
    }

    /** Prints the failure as {@code finetune <command>: <LABEL>: message} and a hint line; a stack trace for INTERNAL. */
    static int report(Throwable e, String command, PrintWriter err) {
        Classified c = classify(e);
        err.println(command + ": " + c.label() + ": " + c.message());
        if (c.hint() != null) {
            err.println("hint: " + c.hint());
        }
        if (c.internal()) {
            e.printStackTrace(err);
        }
        return c.exitCode();
    }

    /** A file-system exception's one line: the file and what went wrong, in words. */
    static String fileProblem(FileSystemException f) {
        return f.getFile() + ": " + fileReason(f) + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
    }

    /** What went wrong with a file, in words. */
    static String fileReason(FileSystemException f) {
        return switch (f) {
            case NoSuchFileException n -> "no such file or directory";
            case AccessDeniedException a -> "permission denied";
            case NotDirectoryException n -> "not a directory";
            default -> f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
        };
    }

    private static Classified reason(FailureReason r, String message, String hint) {
        return new Classified(r.exitCode(), r.name(), message, hint);
    }

    private static String label(int exitCode) {
        if (exitCode == CliException.USAGE) {
            return "usage";
        }
        return FailureReason.fromExitCode(exitCode).map(Enum::name).orElse("exit " + exitCode);
    }
}
