package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A dataset with a malformed line (port of e2e/trainer/suite.sh's bad-data job): the job ends Failed with reason
 * BadData and no restart, and the message names the file and line, as a user reads it in status and Events.
 */
class BadDataE2E {

    private static final String JOB = "bad-data";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-bad-data-e2e", "models", "data", "outputs");

    @BeforeAll
    static void runTheJob() {
        SCENARIO.cluster().installOperator();
        // line 21 of the quickstart dataset cut short
        SCENARIO.ns().fillAssets(SCENARIO.cluster().settings().trainerImage(), """
                mkdir -p /mnt/data/bad
                { head -n 20 /mnt/data/quickstart/train.jsonl
                  echo '{"instruction": "Continue the sequence", "input": "3 4 5",'
                  tail -n +21 /mnt/data/quickstart/train.jsonl; } > /mnt/data/bad/train.jsonl
                """);
        SCENARIO.ns().createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB, job -> {
            ((ObjectNode) job.at("/spec/dataset/pvc")).put("path", "bad/train.jsonl");
            ((ObjectNode) job.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        });
    }

    @Test
    void endsFailedWithBadDataNamingTheLineWithoutRestart() {
        TestNamespace ns = SCENARIO.ns();
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(5))).isEqualTo("Failed");
        assertThat(ns.condition(JOB, "Failed")).isEqualTo("True BadData");
        assertThat(ns.condition(JOB, "Stalled")).startsWith("True ");
        JsonNode status = ns.job(JOB).path("status");
        String message = "";
        for (JsonNode condition : status.path("conditions")) {
            if ("Failed".equals(condition.path("type").asText())) {
                message = condition.path("message").asText();
            }
        }
        System.out.println("[e2e] bad-data: " + message);
        assertThat(message).as("the Failed condition's message names file:line:column").contains("bad/train.jsonl:21:");
        assertThat(status.path("attempt").asInt() + " " + status.path("restarts").asInt()).as("attempt restarts")
                .isEqualTo("1 0");
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), JOB)).containsEntry("PHASE", "Failed");

        List<Event> failed = ns.events(JOB).stream().filter(e -> "Failed".equals(e.getReason())).toList();
        assertThat(failed).as("a Failed event").isNotEmpty();
        assertThat(failed.getFirst().getType()).isEqualTo("Warning");

        List<Pod> workers = ns.pods("finetune.dev/job", JOB);
        assertThat(workers).as("one worker pod, no restart").hasSize(1);
        assertThat(workers.getFirst().getStatus().getContainerStatuses().getFirst().getState().getTerminated().getExitCode())
                .as("exit code 65 (BAD_DATA)").isEqualTo(65);
    }
}
