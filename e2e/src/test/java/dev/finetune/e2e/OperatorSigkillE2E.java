package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's process killed with SIGKILL mid-training (no shutdown hook runs, the Lease is not released): the
 * kubelet restarts the container, the new process reads the state back from the cluster, and the job succeeds in its
 * first attempt with the eval losses of an uninterrupted run.
 */
class OperatorSigkillE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-operator-sigkill-e2e");

    @BeforeAll
    static void jobs() {
        FaultScenario.createJobs(SCENARIO.cluster(), SCENARIO.ns());
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(SCENARIO.cluster());
        FaultScenario.faultMidTrainingAndCompare(SCENARIO.ns(), "the operator was SIGKILLed", () ->
                assertThat(faults.killOperator()).contains("SIGKILL operator container"));
        assertThat(SCENARIO.cluster().operatorPods()).as("the operator pods after the kill")
                .allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses().getFirst().getRestartCount()).isPositive());
    }
}
