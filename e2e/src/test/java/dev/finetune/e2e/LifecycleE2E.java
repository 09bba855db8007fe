package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job-level clocks, on the real trainer: {@code ttlSecondsAfterFinished} deletes a finished job and, through
 * owner references, its children; {@code activeDeadlineSeconds} ends a running job Failed with reason
 * DeadlineExceeded, saying which limit, and stops its workers.
 */
class LifecycleE2E {

    private static final int EPOCHS_PAST_DEADLINE = 60;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-lifecycle-e2e");

    @Test
    void ttlSecondsAfterFinishedDeletesTheJobAndItsChildren() {
        TestNamespace ns = SCENARIO.ns();
        KubernetesClient client = SCENARIO.client();
        String job = "ttl";
        int ttl = 10;
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), job, j -> {
            ((ObjectNode) j.path("spec")).put("ttlSecondsAfterFinished", ttl);
            ((ObjectNode) j.at("/spec/training")).put("epochs", 1);
            ((ObjectNode) j.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        });
        assertThat(ns.awaitTerminal(job, Duration.ofMinutes(8))).isEqualTo("Succeeded");
        Instant completed = Instant.parse(ns.field(job, "/status/completionTime"));
        await("FineTuneJob " + job + " deleted " + ttl + " s after it finished").atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofSeconds(1)).until(() -> ns.job(job) == null);
        Instant gone = Instant.now();
        System.out.println("[e2e] ttl: deleted " + Duration.between(completed, gone).toSeconds()
                + " s after completionTime (ttlSecondsAfterFinished " + ttl + ")");
        assertThat(Duration.between(completed, gone)).as("not deleted before the TTL")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(ttl - 1));
        String n = ns.name();
        await("the children garbage-collected").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
            assertThat(client.configMaps().inNamespace(n).withName(job + "-config").get()).as("ConfigMap ttl-config").isNull();
            assertThat(client.configMaps().inNamespace(n).withName(job + "-progress").get()).as("ConfigMap ttl-progress").isNull();
            assertThat(client.services().inNamespace(n).withName(job + "-workers").get()).as("Service ttl-workers").isNull();
            assertThat(client.network().v1().networkPolicies().inNamespace(n).withName(job).get()).as("NetworkPolicy").isNull();
            assertThat(client.batch().v1().jobs().inNamespace(n).withLabel("finetune.dev/job", job).list().getItems())
                    .as("worker Jobs").isEmpty();
        });
    }

    @Test
    void activeDeadlineSecondsEndsARunningJobFailed() {
        TestNamespace ns = SCENARIO.ns();
        String job = "deadline";
        int deadline = 20;
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), job, j -> {
            ((ObjectNode) j.path("spec")).put("activeDeadlineSeconds", deadline);
            // far more than the deadline allows (the quickstart's 4 epochs take about 20 s on a Kind node)
            ((ObjectNode) j.at("/spec/training")).put("epochs", EPOCHS_PAST_DEADLINE);
            ((ObjectNode) j.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        });
        assertThat(ns.awaitTerminal(job, Duration.ofMinutes(5))).isEqualTo("Failed");
        assertThat(ns.condition(job, "Failed")).isEqualTo("True DeadlineExceeded");
        String message = "";
        for (JsonNode condition : ns.job(job).path("status").path("conditions")) {
            if ("Failed".equals(condition.path("type").asText())) {
                message = condition.path("message").asText();
            }
        }
        assertThat(message).contains("ran longer than spec.activeDeadlineSeconds (" + deadline + " s");
        assertThat(ns.job(job).at("/status/progress/epoch").asInt()).as("stopped before the last epoch").isLessThan(EPOCHS_PAST_DEADLINE);
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), job)).containsEntry("PHASE", "Failed");
        await("the worker Job deleted").atMost(Duration.ofMinutes(2)).until(() ->
                SCENARIO.client().batch().v1().jobs().inNamespace(ns.name()).withLabel("finetune.dev/job", job).list().getItems().isEmpty());
    }
}
