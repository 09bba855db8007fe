package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SIGTERM grace follows the pod's terminationGracePeriodSeconds, which the operator passes down. */
class ShutdownGraceTest {

    @Test
    void defaultsToTheOperatorsDefaultGrace() {
        assertThat(FinetuneCli.Run.shutdownGraceSeconds(Map.of())).isEqualTo(120);
    }

    @Test
    void followsTheOperatorsVariable() {
        assertThat(FinetuneCli.Run.shutdownGraceSeconds(Map.of("FINETUNE_TERMINATION_GRACE_SECONDS", "600"))).isEqualTo(600);
    }

    @Test
    void refusesWhatCannotBeAGrace() {
        assertThatThrownBy(() -> FinetuneCli.Run.shutdownGraceSeconds(Map.of("FINETUNE_TERMINATION_GRACE_SECONDS", "5")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("FINETUNE_TERMINATION_GRACE_SECONDS=5 is not a number of seconds >= 10");
        assertThatThrownBy(() -> FinetuneCli.Run.shutdownGraceSeconds(Map.of("FINETUNE_TERMINATION_GRACE_SECONDS", "2m")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
