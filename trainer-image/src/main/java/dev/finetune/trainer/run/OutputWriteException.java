package dev.finetune.trainer.run;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * A run could not write to its output directory (permissions, a read-only mount, a full disk): the user's
 * environment, not a bug. Its message names what was being written, the path, and the system's reason.
 */
public final class OutputWriteException extends RuntimeException {

    /** How the C library words ENOSPC and EDQUOT, which the JDK passes on as the exception's reason. */
    private static final java.util.List<String> VOLUME_FULL = java.util.List.of("No space left on device",
            "Disk quota exceeded");

    private final Path path;

    /**
     * @param what  what the run was writing, in words ("the checkpoint at step 9")
     * @param path  where
     * @param cause the I/O failure
     */
    public OutputWriteException(String what, Path path, Throwable cause) {
        super("cannot write " + what + " to " + path + ": " + reason(cause), cause);
        this.path = path;
    }

    public Path path() {
        return path;
    }

    /** The file system said it has no space left (ENOSPC) or the user's quota is used up (EDQUOT). */
    public boolean volumeFull() {
        for (Throwable t = getCause(); t != null; t = t.getCause()) {
            String text = t instanceof FileSystemException f && f.getReason() != null ? f.getReason() : t.getMessage();
            if (text != null && VOLUME_FULL.stream().anyMatch(text::contains)) {
                return true;
            }
        }
        return false;
    }

    /** The innermost file-system failure in words, with the file it concerns, else the innermost message. */
    static String reason(Throwable cause) {
        String message = null;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof FileSystemException f) {
                String why = switch (f) {
                    case AccessDeniedException a -> "permission denied";
                    case NoSuchFileException n -> "no such file or directory";
                    case NotDirectoryException n -> "not a directory";
                    case FileAlreadyExistsException x -> "exists and is not a directory";
                    default -> f.getReason() != null ? f.getReason().toLowerCase(java.util.Locale.ROOT)
                            : f.getClass().getSimpleName();
                };
                return (f.getFile() == null ? "" : f.getFile() + ": ") + why;
            }
            if (t.getMessage() != null) {
                message = t.getMessage();
            }
        }
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
