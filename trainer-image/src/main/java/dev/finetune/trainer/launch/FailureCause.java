package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.FailureReason;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Which rank's exit explains a worker's failure. When one rank fails, the launcher stops the others, and
 * they exit with codes that are consequences (143 for the SIGTERM, 75 for a peer that vanished). The
 * worker must exit with the code of the cause, ranked the way the operator ranks causes across pods:
 * a permanent reason (bad data, bad model, out of memory, ...) over a retryable one (a crash, a lost
 * peer, SIGKILL) over INTERRUPTED and over the launcher's own SIGKILL of a rank that would not stop;
 * among equals, the earliest exit (the first rank to fail).
 */
public final class FailureCause {

    private FailureCause() {
    }

    /** The exit that explains the failure; empty when every rank exited 0. */
    public static Optional<ChildExit> of(Collection<ChildExit> exits) {
        return exits.stream()
                .filter(ChildExit::failed)
                .min(Comparator.comparingInt((ChildExit e) -> -severity(e)).thenComparingLong(ChildExit::exitedAtNanos));
    }

    /** The worker's exit code: the cause's, or 0. */
    public static int exitCode(Collection<ChildExit> exits) {
        return of(exits).map(ChildExit::exitCode).orElse(0);
    }

    /**
     * 3 permanent, 2 retryable (including codes that are not the trainer's), 1 interrupted or killed by the
     * launcher, 0 success.
     */
    static int severity(ChildExit exit) {
        int exitCode = exit.exitCode();
        if (exitCode == 0) {
            return 0;
        }
        if (exitCode == FailureReason.INTERRUPTED.exitCode() || exit.killedByLauncher()) {
            return 1;
        }
        return FailureReason.fromExitCode(exitCode).map(r -> r.permanent() ? 3 : 2).orElse(2);
    }
}
