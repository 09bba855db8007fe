package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Preemption (port of e2e/trainer/suite.sh's resume job): the worker pod is deleted right after the first checkpoint
 * (asserted still training, so it cannot have finished first); the operator restarts the gang as attempt 2 from the
 * checkpoint, and the run ends with the same eval losses, epoch by epoch, as the same spec never interrupted.
 */
@ExtendWith(E2eExtension.class)
class PreemptionE2E {

    private static final String JOB = "preempted";
    private static final String REFERENCE = "reference";

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void twoJobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-preemption-e2e");
        ns.createSideBySideQuickstartJobs(shared.settings().repo(), REFERENCE, JOB);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void theGangRestartsFromTheCheckpointWithTheUninterruptedRunsEvalLosses() {
        await(JOB + " checkpointed").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> ns.condition(JOB, "Checkpointed").startsWith("True "));
        List<Pod> attempt1 = ns.workers(JOB, 1);
        assertThat(attempt1).as("attempt 1's worker pod").hasSize(1);
        // read just before the deletion: afterwards the operator may already show attempt 2 (phase Initializing)
        JsonNode atDeletion = ns.job(JOB).path("status");
        cluster.client().pods().inNamespace(ns.name()).withName(attempt1.getFirst().getMetadata().getName()).delete();
        System.out.println("[e2e] preempted at epoch " + atDeletion.at("/progress/epoch").asText() + ", checkpoint "
                + atDeletion.at("/lastCheckpoint/path").asText());
        assertThat(atDeletion.path("phase").asText() + " epoch " + atDeletion.at("/progress/epoch").asInt())
                .as("still training when the pod was deleted (before the last epoch)").matches("Training epoch [123]");

        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts")).as("attempt restarts")
                .isEqualTo("2 1");
        String restarted = ns.events(JOB).stream().filter(e -> "Restarted".equals(e.getReason())).map(Event::getMessage)
                .findFirst().orElse("(no Restarted event)");
        System.out.println("[e2e] " + restarted);
        assertThat(restarted).containsPattern(
                "Attempt 1 failed \\(Interrupted\\).*as attempt 2 from checkpoint checkpoints/checkpoint-[0-9]+");
        List<Pod> attempt2 = ns.workers(JOB, 2);
        assertThat(attempt2).as("attempt 2's worker pod").hasSize(1);
        assertThat(ns.log(attempt2.getFirst().getMetadata().getName())).contains("resumed from");

        assertThat(ns.awaitTerminal(REFERENCE, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.evalLosses(JOB)).as("the resumed run's eval losses").hasSize(4).isEqualTo(ns.evalLosses(REFERENCE));
    }
}
