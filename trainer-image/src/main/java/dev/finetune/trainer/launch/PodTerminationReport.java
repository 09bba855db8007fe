package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.trainer.run.TerminationLog;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one termination message a worker pod publishes for all its ranks. The operator reads it as "rank
 * 0's report" when the pod is worker 0, and takes the failure in it as the pod's cause before the exit
 * code. So the report is global rank 0's (its progress, checkpoint and outputs are the gang's) when this
 * pod holds rank 0, and its failure is the cause's: rank 0 SIGTERM'd because rank 1 ran out of memory
 * must not make the pod say INTERRUPTED.
 */
public final class PodTerminationReport {

    private PodTerminationReport() {
    }

    /**
     * @param reports what each rank wrote, by global rank (ranks that died before writing are absent)
     * @param cause the exit that explains the failure, empty when all ranks succeeded
     * @param attempt the gang's attempt, for a report made here when no rank wrote one
     * @return the report to publish; empty when there is nothing true to say beyond the exit code and the log
     *     (a rank that crashed with a code that is not the trainer's, e.g. SIGKILL)
     */
    public static Optional<ProgressReport> choose(Map<Integer, ProgressReport> reports, Optional<ChildExit> cause, int attempt) {
        ProgressReport rankZero = reports.get(0);
        if (cause.isEmpty()) {
            return Optional.ofNullable(rankZero);
        }
        ChildExit c = cause.get();
        ProgressReport causeReport = reports.get(c.globalRank());
        Failure failure = causeReport != null && causeReport.failure() != null ? causeReport.failure()
                : c.reason().map(r -> Failure.of(r, "rank " + c.globalRank() + " ended with " + c.describe()
                        + " without a report; see its log lines ([rank " + c.globalRank() + "])")).orElse(null);
        if (failure == null) {
            return Optional.empty();
        }
        if (rankZero == null) {
            return Optional.of(causeReport != null ? causeReport
                    : new ProgressReport(ProgressReport.SCHEMA_VERSION, 0, attempt, TrainerState.FAILED, null, List.of(), null,
                            null, failure));
        }
        if (c.globalRank() == 0 || (rankZero.failure() != null && rankZero.failure().reason() == failure.reason())) {
            return Optional.of(rankZero);
        }
        String message = causeReport != null ? "rank " + c.globalRank() + ": " + failure.message() : failure.message();
        return Optional.of(TerminationLog.withFailure(rankZero, new Failure(failure.reason(), message, failure.hint())));
    }
}
