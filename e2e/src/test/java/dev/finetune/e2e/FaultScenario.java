package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.function.Consumer;

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

    /** The scenario's namespace with the quickstart assets, the job and its reference created side by side. */
    static ScenarioNamespace namespace(String name) {
        return ScenarioNamespace.of(cluster -> {
            TestNamespace ns = TestNamespace.withQuickstartAssets(cluster, name);
            ns.createSideBySideQuickstartJobs(cluster.settings().repo(), REFERENCE, JOB);
            return ns;
        });
    }

    /** Waits for the job's first checkpoint, does the fault to the scenario's cluster, and compares the outcome. */
    static void faultMidTrainingAndCompare(ScenarioNamespace scenario, String what, Consumer<NodeFaults> fault) {
        TestNamespace ns = scenario.ns();
        await(JOB + " checkpointed").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> ns.condition(JOB, "Checkpointed").startsWith("True "));
        JsonNode before = ns.job(JOB).path("status");
        assertThat(before.path("phase").asText() + " epoch " + before.at("/progress/epoch").asInt())
                .as("still training when " + what).matches("Training epoch [123]");
        System.out.println("[e2e] " + what + " at step " + before.at("/progress/step").asText() + ", checkpoint "
                + before.at("/lastCheckpoint/path").asText());
        fault.accept(NodeFaults.of(scenario.cluster()));

        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(15))).isEqualTo("Succeeded");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts"))
                .as("attempt and restarts: the workers trained on through the fault").isEqualTo("1 0");
        assertThat(ns.awaitTerminal(REFERENCE, Duration.ofMinutes(15))).isEqualTo("Succeeded");
        assertThat(ns.evalLosses(JOB)).as("eval losses after " + what).hasSize(4).isEqualTo(ns.evalLosses(REFERENCE));
    }
}
