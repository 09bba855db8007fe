package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Preemption (port of e2e/trainer/suite.sh's resume job): the worker pod is deleted right after the first checkpoint
 * (asserted still training, so it cannot have finished first); the operator restarts the gang as attempt 2 from the
 * checkpoint, and the run ends with the same eval losses, epoch by epoch, as the same spec never interrupted.
 */
class PreemptionE2E {

    private static final String JOB = "preempted";
    private static final String REFERENCE = "reference";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-preemption-e2e");

    @BeforeAll
    static void twoJobs() {
        SCENARIO.ns().createSideBySideQuickstartJobs(SCENARIO.cluster().settings().repo(), REFERENCE, JOB);
    }

    @Test
    void theGangRestartsFromTheCheckpointWithTheUninterruptedRunsEvalLosses() {
        TestNamespace ns = SCENARIO.ns();
        InterruptedRun run = new InterruptedRun(ns, JOB, REFERENCE);
        run.interruptAfterTheFirstCheckpoint("preempted", () -> {
            List<Pod> attempt1 = ns.workers(JOB, 1);
            assertThat(attempt1).as("attempt 1's worker pod").hasSize(1);
            SCENARIO.client().pods().inNamespace(ns.name()).withName(attempt1.getFirst().getMetadata().getName())
                    .delete();
        });

        run.assertSucceededAsAttempt2(1);
        assertThat(run.event("Restarted")).containsPattern(
                "Attempt 1 failed \\(Interrupted\\).*as attempt 2 from checkpoint checkpoints/checkpoint-[0-9]+");
        run.assertResumedWithTheReferencesEvalLosses();
    }
}
