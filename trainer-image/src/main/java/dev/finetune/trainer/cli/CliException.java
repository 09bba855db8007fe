package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.FailureReason;

/**
 * A user mistake the CLI found before any work started: what is wrong (naming the option, file or field),
 * what would fix it, and the exit code. Usage mistakes (a bad option value) exit {@link #USAGE}; mistakes in
 * the job, the data or the model exit with their {@link FailureReason}'s code.
 */
final class CliException extends RuntimeException {

    /** sysexits' EX_USAGE: a command-line option or argument is wrong. */
    static final int USAGE = 64;

    private final int exitCode;
    private final String hint;

    private CliException(int exitCode, String message, String hint, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.hint = hint;
    }

    /** A wrong option or argument (exit 64). */
    static CliException usage(String message, String hint) {
        return new CliException(USAGE, message, hint, null);
    }

    static CliException of(FailureReason reason, String message, String hint) {
        return new CliException(reason.exitCode(), message, hint, null);
    }

    static CliException of(FailureReason reason, String message, String hint, Throwable cause) {
        return new CliException(reason.exitCode(), message, hint, cause);
    }

    int exitCode() {
        return exitCode;
    }

    /** What would fix it; null when the message says it already. */
    String hint() {
        return hint;
    }
}
