package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's kubelet stopped for 60 s mid-training and started again: the worker's container runs on unsupervised, the node's status goes stale, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
class KubeletStopE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = FaultScenario.namespace("ft-kubelet-stop-e2e");

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        FaultScenario.faultMidTrainingAndCompare(SCENARIO, "the kubelet was stopped for 60 s", faults ->
                assertThat(faults.stopKubelet(java.time.Duration.ofSeconds(60))).contains("stopping the kubelet").contains("recovered in"));
    }
}
