package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kube-apiserver restarted mid-training: rank 0's progress PATCHes fail while it is down and catch up after (each
 * report replaces the previous one), the operator's watches reconnect, and the job succeeds in its first attempt with
 * the eval losses of an uninterrupted run and its full history in the status.
 */
class ApiServerRestartE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = FaultScenario.namespace("ft-apiserver-restart-e2e");

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        FaultScenario.faultMidTrainingAndCompare(SCENARIO, "the kube-apiserver was restarted", faults ->
                assertThat(faults.restartApiServer()).contains("stopping kube-apiserver").contains("recovered in"));
    }
}
