package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's kubelet stopped for 60 s mid-training and started again: the worker's container runs on unsupervised, the node's status goes stale, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
@ExtendWith(E2eExtension.class)
class KubeletStopE2E {

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void jobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-kubelet-stop-e2e");
        FaultScenario.createJobs(shared, ns);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(cluster);
        FaultScenario.faultMidTrainingAndCompare(ns, "the kubelet was stopped for 60 s", () ->
                assertThat(faults.stopKubelet(java.time.Duration.ofSeconds(60))).contains("stopping the kubelet").contains("recovered in"));
    }
}
