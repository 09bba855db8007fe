package dev.finetune.trainer.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FailureCauseTest {

    static ChildExit exit(int rank, int code, long at) {
        return new ChildExit(rank, rank, code, at, false);
    }

    @Test
    void allZeroIsSuccess() {
        assertThat(FailureCause.of(List.of(exit(0, 0, 1), exit(1, 0, 2)))).isEmpty();
        assertThat(FailureCause.exitCode(List.of(exit(0, 0, 1), exit(1, 0, 2)))).isZero();
    }

    @Test
    void theFailingRankWinsOverTheSiblingsStoppedBecauseOfIt() {
        // rank 1 runs out of memory; rank 0 is SIGTERM'd (143), rank 2 loses its peer (75)
        List<ChildExit> exits = List.of(exit(1, 68, 10), exit(0, 143, 20), exit(2, 75, 15));
        assertThat(FailureCause.of(exits)).contains(exit(1, 68, 10));
        assertThat(FailureCause.exitCode(exits)).isEqualTo(68);
    }

    @Test
    void aPermanentReasonBeatsAnEarlierRetryableOne() {
        // rank 0 saw the connection drop first (75), but rank 1 failed on bad data (65): retrying cannot help
        assertThat(FailureCause.exitCode(List.of(exit(0, 75, 1), exit(1, 65, 2)))).isEqualTo(65);
    }

    @Test
    void amongEqualsTheFirstExitIsTheCause() {
        assertThat(FailureCause.of(List.of(exit(0, 75, 9), exit(1, 70, 3)))).contains(exit(1, 70, 3));
        // a crash (SIGABRT, not a trainer code) first; the peer's 75 follows
        assertThat(FailureCause.exitCode(List.of(exit(1, 134, 5), exit(0, 75, 6)))).isEqualTo(134);
    }

    @Test
    void interruptedAndTheLaunchersOwnKillsRankLowest() {
        assertThat(FailureCause.exitCode(List.of(exit(0, 143, 1), exit(1, 75, 2)))).isEqualTo(75);
        ChildExit killedHere = new ChildExit(0, 0, 137, 1, true);
        assertThat(FailureCause.of(List.of(killedHere, exit(1, 143, 5)))).contains(killedHere); // earliest of equals
        assertThat(FailureCause.exitCode(List.of(killedHere, exit(1, 70, 5)))).isEqualTo(70);
        assertThat(FailureCause.exitCode(List.of(exit(0, 143, 2), exit(1, 143, 1)))).isEqualTo(143);
    }

    @Test
    void exitsAreDescribedWithTheirReasonOrSignal() {
        assertThat(exit(0, 65, 0).describe()).isEqualTo("exit code 65 (BadData)");
        assertThat(exit(0, 137, 0).describe()).isEqualTo("exit code 137 (killed by SIGKILL)");
        assertThat(exit(0, 134, 0).describe()).isEqualTo("exit code 134 (killed by SIGABRT)");
        assertThat(exit(0, 143, 0).describe()).isEqualTo("exit code 143 (Interrupted)");
        assertThat(exit(0, 1, 0).describe()).isEqualTo("exit code 1");
    }
}
