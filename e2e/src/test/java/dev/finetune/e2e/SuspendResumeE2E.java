package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * spec.suspend mid-training: the job is suspended right after its first checkpoint (so it cannot have finished
 * before the interruption), its workers go, and on resume attempt 2 starts from the checkpoint and ends with the same
 * eval loss, epoch by epoch, as the same spec trained without interruption beside it.
 */
@ExtendWith(E2eExtension.class)
class SuspendResumeE2E {

    private static final String JOB = "suspended";
    private static final String REFERENCE = "uninterrupted";

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void twoJobs(E2eCluster shared) {
        cluster = shared;
        ns = TestNamespace.withQuickstartAssets(shared, "ft-suspend-e2e");
        ns.createSideBySideQuickstartJobs(shared.settings().repo(), REFERENCE, JOB);
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    /** A merge patch of spec.suspend alone, as {@code kubectl patch --type merge} sends it: no resourceVersion, so
     * the operator's concurrent status updates cannot make it conflict. */
    private static void setSuspend(boolean suspend) {
        ns.jobResource(JOB).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
    }

    @Test
    void resumesFromTheCheckpointWithTheUninterruptedRunsEvalLosses() {
        await(JOB + " checkpointed").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> ns.condition(JOB, "Checkpointed").startsWith("True "));
        // read just before suspending: afterwards the operator may already show the suspension's phase
        JsonNode atSuspend = ns.job(JOB).path("status");
        setSuspend(true);
        System.out.println("[e2e] suspended at epoch " + atSuspend.at("/progress/epoch").asText() + ", checkpoint "
                + atSuspend.at("/lastCheckpoint/path").asText());
        assertThat(atSuspend.path("phase").asText() + " epoch " + atSuspend.at("/progress/epoch").asInt())
                .as("still training when suspended (the interruption must come before the last epoch)")
                .matches("Training epoch [123]");

        ns.awaitField(JOB, "/status/phase", "Suspended", Duration.ofMinutes(1));
        await("the workers gone while suspended").atMost(Duration.ofMinutes(2))
                .until(() -> ns.pods("finetune.dev/job", JOB).isEmpty());
        assertThat(PrinterColumns.of(cluster.client(), ns.name(), JOB)).containsEntry("PHASE", "Suspended");
        assertThat(ns.events(JOB)).extracting(Event::getReason).contains("Suspended");

        setSuspend(false);
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts")).as("attempt restarts")
                .isEqualTo("2 0");
        String resumed = ns.events(JOB).stream().filter(e -> "Resumed".equals(e.getReason())).map(Event::getMessage)
                .findFirst().orElse("(no Resumed event)");
        System.out.println("[e2e] " + resumed);
        assertThat(resumed).containsPattern("checkpoints/checkpoint-[0-9]+");
        List<Pod> attempt2 = ns.workers(JOB, 2);
        assertThat(attempt2).as("attempt 2's worker pod").hasSize(1);
        assertThat(ns.log(attempt2.getFirst().getMetadata().getName())).contains("resumed from");

        assertThat(ns.awaitTerminal(REFERENCE, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.evalLosses(JOB)).as("the resumed run's eval losses").hasSize(4).isEqualTo(ns.evalLosses(REFERENCE));
    }
}
