package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * One fault done to the cluster while a quickstart job trains next to an identical reference job (issue 18): the
 * fault comes right after the job's first checkpoint, while it is still training; the job must still succeed in its
 * first attempt (the workers kept training: no checkpoint interval repeated, no restart) and end with the reference's
 * eval losses, epoch by epoch.
 */
final class FaultScenario {

    static final String JOB = "faulted";
    static final String REFERENCE = "reference";

    private FaultScenario() {
    }

    /** The job and its reference, created side by side. */
    static void createJobs(E2eCluster cluster, TestNamespace ns) {
        ns.createSideBySideQuickstartJobs(cluster.settings().repo(), REFERENCE, JOB);
    }

    static void faultMidTrainingAndCompare(TestNamespace ns, String what, Runnable fault) {
        await(JOB + " checkpointed").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> ns.condition(JOB, "Checkpointed").startsWith("True "));
        JsonNode before = ns.job(JOB).path("status");
        assertThat(before.path("phase").asText() + " epoch " + before.at("/progress/epoch").asInt())
                .as("still training when " + what).matches("Training epoch [123]");
        System.out.println("[e2e] " + what + " at step " + before.at("/progress/step").asText() + ", checkpoint "
                + before.at("/lastCheckpoint/path").asText());
        fault.run();

        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(15))).isEqualTo("Succeeded");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts"))
                .as("attempt and restarts: the workers trained on through the fault").isEqualTo("1 0");
        assertThat(ns.awaitTerminal(REFERENCE, Duration.ofMinutes(15))).isEqualTo("Succeeded");
        assertThat(ns.evalLosses(JOB)).as("eval losses after " + what).hasSize(4).isEqualTo(ns.evalLosses(REFERENCE));
    }
}
