package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's process killed with SIGKILL mid-training (no shutdown hook runs, the Lease is not released): the
 * kubelet restarts the container, the new process reads the state back from the cluster, and the job succeeds in its
 * first attempt with the eval losses of an uninterrupted run.
 */
class OperatorSigkillE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = FaultScenario.namespace("ft-operator-sigkill-e2e");

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        FaultScenario.faultMidTrainingAndCompare(SCENARIO, "the operator was SIGKILLed", faults ->
                assertThat(faults.killOperator()).contains("SIGKILL operator container"));
        assertThat(SCENARIO.cluster().operatorPods()).as("the operator pods after the kill")
                .allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses().getFirst().getRestartCount()).isPositive());
    }
}
