package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's kubelet stopped for 60 s mid-training and started again: the worker's container runs on unsupervised, the node's status goes stale, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
class KubeletStopE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-kubelet-stop-e2e");

    @BeforeAll
    static void jobs() {
        FaultScenario.createJobs(SCENARIO.cluster(), SCENARIO.ns());
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(SCENARIO.cluster());
        FaultScenario.faultMidTrainingAndCompare(SCENARIO.ns(), "the kubelet was stopped for 60 s", () ->
                assertThat(faults.stopKubelet(java.time.Duration.ofSeconds(60))).contains("stopping the kubelet").contains("recovered in"));
    }
}
