package dev.finetune.trainer.launch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PodTerminationReportTest {

    static ProgressReport report(long sequence, TrainerState state, FailureReason reason, String message) {
        return new ProgressReport(1, sequence, 3, state, null, List.of(), null, null,
                reason == null ? null : Failure.of(reason, message));
    }

    static Optional<ChildExit> cause(int rank, int code) {
        return Optional.of(new ChildExit(rank, rank, code, 0, false));
    }

    @Test
    void successPublishesRankZerosReportAndOtherWorkersPublishNothing() {
        ProgressReport zero = report(40, TrainerState.SUCCEEDED, null, null);
        assertThat(PodTerminationReport.choose(Map.of(0, zero), Optional.empty(), 3)).contains(zero);
        assertThat(PodTerminationReport.choose(Map.of(), Optional.empty(), 3)).isEmpty();
    }

    @Test
    void rankZeroInterruptedBecauseRankOneFailedReportsRankOnesReason() {
        ProgressReport zero = report(41, TrainerState.FAILED, FailureReason.INTERRUPTED, "stopped at step 7 on request");
        ProgressReport one = report(2, TrainerState.FAILED, FailureReason.OUT_OF_MEMORY, "CUDA out of memory");
        ProgressReport published = PodTerminationReport.choose(Map.of(0, zero, 1, one), cause(1, 68), 3).orElseThrow();
        assertThat(published.sequence()).isEqualTo(41); // rank 0's progress and sequence stay
        assertThat(published.state()).isEqualTo(TrainerState.FAILED);
        assertThat(published.failure().reason()).isEqualTo(FailureReason.OUT_OF_MEMORY);
        assertThat(published.failure().message()).isEqualTo("rank 1: CUDA out of memory");
        assertThat(published.failure().hint()).isEqualTo(FailureReason.OUT_OF_MEMORY.hint());
    }

    @Test
    void rankZerosOwnFailureIsPublishedAsItIs() {
        ProgressReport zero = report(12, TrainerState.FAILED, FailureReason.NAN_LOSS, "loss is NaN at step 12");
        ProgressReport one = report(1, TrainerState.FAILED, FailureReason.NAN_LOSS, "loss is NaN at step 12");
        assertThat(PodTerminationReport.choose(Map.of(0, zero, 1, one), cause(0, 67), 3)).contains(zero);
        // every rank stopped on SIGTERM and rank 1 happened to exit first: rank 0's report says it already
        ProgressReport interrupted = report(50, TrainerState.FAILED, FailureReason.INTERRUPTED, "stopped at step 9 on request");
        ProgressReport oneInterrupted = report(3, TrainerState.FAILED, FailureReason.INTERRUPTED, "stopped at step 9 on request");
        assertThat(PodTerminationReport.choose(Map.of(0, interrupted, 1, oneInterrupted), cause(1, 143), 3)).contains(interrupted);
    }

    @Test
    void aWorkerWithoutRankZeroPublishesTheCausesReport() {
        ProgressReport five = report(1, TrainerState.FAILED, FailureReason.BAD_DATA, "train.jsonl line 3: no messages");
        assertThat(PodTerminationReport.choose(Map.of(4, report(1, TrainerState.FAILED, FailureReason.INTERRUPTED, "x"),
                5, five), cause(5, 65), 3)).contains(five);
    }

    @Test
    void aRankThatDiedWithATrainerCodeButNoReportGetsOneMadeFromItsCode() {
        ProgressReport made = PodTerminationReport.choose(Map.of(), cause(3, 70), 3).orElseThrow();
        assertThat(made.attempt()).isEqualTo(3);
        assertThat(made.state()).isEqualTo(TrainerState.FAILED);
        assertThat(made.failure().reason()).isEqualTo(FailureReason.INTERNAL);
        assertThat(made.failure().message()).contains("rank 3 ended with exit code 70 (Internal) without a report");
    }

    @Test
    void aCrashWithAForeignCodeLeavesTheMessageToTheExitCodeAndTheLog() {
        // rank 0 wrote COMMUNICATION after rank 1 was SIGKILLed: publishing it would hide the kill
        ProgressReport zero = report(20, TrainerState.FAILED, FailureReason.COMMUNICATION, "peer 1 closed the connection");
        assertThat(PodTerminationReport.choose(Map.of(0, zero), cause(1, 137), 3)).isEmpty();
    }
}
