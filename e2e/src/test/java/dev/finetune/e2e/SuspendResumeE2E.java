package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * spec.suspend mid-training: the job is suspended right after its first checkpoint (so it cannot have finished
 * before the interruption), its workers go, and on resume attempt 2 starts from the checkpoint and ends with the same
 * eval loss, epoch by epoch, as the same spec trained without interruption beside it.
 */
class SuspendResumeE2E {

    private static final String JOB = "suspended";
    private static final String REFERENCE = "uninterrupted";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-suspend-e2e");

    @BeforeAll
    static void twoJobs() {
        SCENARIO.ns().createSideBySideQuickstartJobs(SCENARIO.cluster().settings().repo(), REFERENCE, JOB);
    }

    /** A merge patch of spec.suspend alone, as {@code kubectl patch --type merge} sends it: no resourceVersion, so
     * the operator's concurrent status updates cannot make it conflict. */
    private static void setSuspend(boolean suspend) {
        SCENARIO.ns().jobResource(JOB).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
    }

    @Test
    void resumesFromTheCheckpointWithTheUninterruptedRunsEvalLosses() {
        TestNamespace ns = SCENARIO.ns();
        InterruptedRun run = new InterruptedRun(ns, JOB, REFERENCE);
        run.interruptAfterTheFirstCheckpoint("suspended", () -> setSuspend(true));

        ns.awaitField(JOB, "/status/phase", "Suspended", Duration.ofMinutes(1));
        await("the workers gone while suspended").atMost(Duration.ofMinutes(2))
                .until(() -> ns.pods("finetune.dev/job", JOB).isEmpty());
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), JOB)).containsEntry("PHASE", "Suspended");
        assertThat(ns.events(JOB)).extracting(Event::getReason).contains("Suspended");

        setSuspend(false);
        run.assertSucceededAsAttempt2(0);
        assertThat(run.event("Resumed")).containsPattern("checkpoints/checkpoint-[0-9]+");
        run.assertResumedWithTheReferencesEvalLosses();
    }
}
