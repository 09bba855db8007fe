package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's process killed with SIGKILL mid-training (no shutdown hook runs, the Lease is not released): the
 * kubelet restarts the container, the new process reads the state back from the cluster, and the job succeeds in its
 * first attempt with the eval losses of an uninterrupted run.
 */
@ExtendWith(E2eExtension.class)
class OperatorSigkillE2E {

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void jobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-operator-sigkill-e2e");
        FaultScenario.createJobs(shared, ns);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(cluster);
        FaultScenario.faultMidTrainingAndCompare(ns, "the operator was SIGKILLed", () ->
                assertThat(faults.killOperator()).contains("SIGKILL operator container"));
        assertThat(cluster.operatorPods()).as("the operator pods after the kill")
                .allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses().getFirst().getRestartCount()).isPositive());
    }
}
