package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's containerd restarted mid-training: the worker's container keeps running under its shim, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
class ContainerdRestartE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-containerd-restart-e2e");

    @BeforeAll
    static void jobs() {
        FaultScenario.createJobs(SCENARIO.cluster(), SCENARIO.ns());
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(SCENARIO.cluster());
        FaultScenario.faultMidTrainingAndCompare(SCENARIO.ns(), "containerd was restarted", () ->
                assertThat(faults.restartContainerd()).contains("restarting containerd").contains("recovered in"));
    }
}
