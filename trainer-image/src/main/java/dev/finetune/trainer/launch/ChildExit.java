package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.FailureReason;
import java.util.Locale;
import java.util.Map;

/**
 * How one rank's process ended.
 *
 * @param exitCode as Java reports it: 128 + N for a process killed by signal N
 * @param exitedAtNanos {@link System#nanoTime()} when the launcher saw the exit (orders the failures)
 * @param killedByLauncher the launcher sent SIGKILL after the rank ignored SIGTERM for too long: its code
 *     says what the launcher did, not what went wrong
 */
public record ChildExit(int localRank, int globalRank, int exitCode, long exitedAtNanos, boolean killedByLauncher) {

    private static final Map<Integer, String> SIGNALS = Map.of(1, "SIGHUP", 2, "SIGINT", 6, "SIGABRT", 9, "SIGKILL",
            11, "SIGSEGV", 15, "SIGTERM");

    public boolean failed() {
        return exitCode != 0;
    }

    /** The failure reason the trainer exits with for this code, if it is one of the trainer's codes. */
    public java.util.Optional<FailureReason> reason() {
        return FailureReason.fromExitCode(exitCode);
    }

    /** E.g. {@code exit code 65 (BadData)} or {@code exit code 137 (killed by SIGKILL)}. */
    public String describe() {
        if (exitCode == 0) {
            return "exit code 0";
        }
        var reason = reason();
        if (reason.isPresent()) {
            return "exit code " + exitCode + " (" + reason.get().conditionReason() + ")";
        }
        if (exitCode > 128 && exitCode < 160) {
            int signal = exitCode - 128;
            return String.format(Locale.ROOT, "exit code %d (killed by %s)", exitCode, SIGNALS.getOrDefault(signal, "signal " + signal));
        }
        return "exit code " + exitCode;
    }
}
