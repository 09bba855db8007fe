package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's containerd restarted mid-training: the worker's container keeps running under its shim, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
class ContainerdRestartE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = FaultScenario.namespace("ft-containerd-restart-e2e");

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        FaultScenario.faultMidTrainingAndCompare(SCENARIO, "containerd was restarted", faults ->
                assertThat(faults.restartContainerd()).contains("restarting containerd").contains("recovered in"));
    }
}
