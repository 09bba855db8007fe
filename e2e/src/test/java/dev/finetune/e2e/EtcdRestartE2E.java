package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cluster's etcd restarted mid-training: the kube-apiserver loses its store for the while, watches and PATCHes fail and recover, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
class EtcdRestartE2E {

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = FaultScenario.namespace("ft-etcd-restart-e2e");

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        FaultScenario.faultMidTrainingAndCompare(SCENARIO, "the etcd member was restarted", faults ->
                assertThat(faults.restartEtcd()).contains("stopping etcd").contains("recovered in"));
    }
}
