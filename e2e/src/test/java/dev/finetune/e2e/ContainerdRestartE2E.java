package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's containerd restarted mid-training: the worker's container keeps running under its shim, and the job succeeds in its first attempt with the eval losses of an uninterrupted run.
 */
@ExtendWith(E2eExtension.class)
class ContainerdRestartE2E {

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void jobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-containerd-restart-e2e");
        FaultScenario.createJobs(shared, ns);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void theJobSucceedsWithTheUninterruptedRunsEvalLosses() {
        NodeFaults faults = NodeFaults.of(cluster);
        FaultScenario.faultMidTrainingAndCompare(ns, "containerd was restarted", () ->
                assertThat(faults.restartContainerd()).contains("restarting containerd").contains("recovered in"));
    }
}
