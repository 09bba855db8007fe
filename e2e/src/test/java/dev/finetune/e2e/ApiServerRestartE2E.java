package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kube-apiserver restarted mid-training: rank 0's progress PATCHes fail while it is down and catch up after (each
 * report replaces the previous one), the operator's watches reconnect, and the job succeeds in its first attempt with
 * the eval losses of an uninterrupted run and its full history in the status.
 */
@ExtendWith(E2eExtension.class)
class ApiServerRestartE2E {

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void jobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-apiserver-restart-e2e");
        FaultScenario.createJobs(shared, ns);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(cluster);
        FaultScenario.faultMidTrainingAndCompare(ns, "the kube-apiserver was restarted", () ->
                assertThat(faults.restartApiServer()).contains("stopping kube-apiserver").contains("recovered in"));
    }
}
