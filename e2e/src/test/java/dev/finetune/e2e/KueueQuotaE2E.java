package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two jobs over a real Kueue's quota (issue 14): the ClusterQueue's cpu quota holds one quickstart worker, so the
 * second job waits, Queued, with Kueue's reason in {@code kubectl get ftj -o wide}, while the first trains; it starts
 * only when the first has finished, and both succeed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KueueQuotaE2E {

    private static final String FIRST = "first";
    private static final String SECOND = "second";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-kueue-quota-e2e");
    private static KueueQueue queue;

    @BeforeAll
    static void aQueueForOneWorker() {
        queue = KueueQueue.create(SCENARIO.cluster(), SCENARIO.ns(), TestNamespace.JOB_CPU, "4Gi", "0");
    }

    @AfterAll
    static void deleteTheQueue() {
        SCENARIO.deleteNamespaceUnlessFailed();
        if (queue != null) {
            queue.deleteClusterQueue();
        }
    }

    /** A two-epoch quickstart job in LocalQueue team, one worker of {@link TestNamespace#JOB_CPU}. */
    private static void createQueuedJob(String name) {
        SCENARIO.ns().createQuickstartJob(SCENARIO.cluster().settings().repo(), name, j -> {
            ((ObjectNode) j.path("metadata")).putObject("labels").put("kueue.x-k8s.io/queue-name", KueueQueue.LOCAL_QUEUE);
            ((ObjectNode) j.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
            ((ObjectNode) j.at("/spec/training")).put("epochs", 2);
        });
    }

    private static io.fabric8.kubernetes.api.model.batch.v1.Job workerJob(String job) {
        return SCENARIO.client().batch().v1().jobs().inNamespace(SCENARIO.ns().name()).withName(job + "-attempt-1").get();
    }

    @Test
    @Order(1)
    void theSecondJobWaitsQueuedWithKueuesReasonWhileTheFirstTrains() {
        TestNamespace ns = SCENARIO.ns();
        createQueuedJob(FIRST);
        queue.awaitWorkload(FIRST, 1, "admitted", KueueQueue::admitted, Duration.ofMinutes(2));
        createQueuedJob(SECOND);

        ns.awaitField(SECOND, "/status/phase", "Queued", Duration.ofMinutes(1));
        await("second's message to carry Kueue's reason").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> PrinterColumns.of(SCENARIO.client(), ns.name(), SECOND).get("MESSAGE"),
                        m -> m.contains("insufficient unused quota for cpu"));
        Map<String, String> columns = PrinterColumns.of(SCENARIO.client(), ns.name(), SECOND);
        System.out.println("[e2e] kubectl get ftj " + SECOND + " -o wide: " + columns);
        assertThat(columns).containsEntry("PHASE", "Queued");
        assertThat(columns.get("MESSAGE")).startsWith("Queued in LocalQueue team: couldn't assign flavors to pod set")
                .contains("insufficient unused quota for cpu");
        assertThat(ns.condition(SECOND, "WorkersReady")).isEqualTo("False Queued");
        assertThat(ns.field(FIRST, "/status/phase")).as("the first job holds the quota meanwhile")
                .isIn("Initializing", "Training");
        assertThat(workerJob(SECOND).getSpec().getSuspend()).as("second's worker Job held suspended").isTrue();
        assertThat(ns.pods("finetune.dev/job", SECOND)).as("no worker pod of the second job").isEmpty();
    }

    @Test
    @Order(2)
    void theSecondStartsWhenTheFirstHasFinishedAndBothSucceed() {
        TestNamespace ns = SCENARIO.ns();
        assertThat(ns.awaitTerminal(FIRST, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.awaitTerminal(SECOND, Duration.ofMinutes(10))).isEqualTo("Succeeded");

        // both times are the Job controller's: when the first worker Job completed, when the second one started
        Instant firstDone = Instant.parse(workerJob(FIRST).getStatus().getCompletionTime());
        Instant secondStarted = Instant.parse(workerJob(SECOND).getStatus().getStartTime());
        System.out.println("[e2e] first's workers completed " + firstDone + ", second's started " + secondStarted);
        assertThat(secondStarted).as("second admitted only once the first had finished").isAfterOrEqualTo(firstDone);
        assertThat(ns.field(SECOND, "/status/attempt") + " " + ns.field(SECOND, "/status/restarts")).isEqualTo("1 0");
        assertThat(ns.events(SECOND)).extracting(Event::getReason).doesNotContain("Restarted", "Failed");
        assertThat(ns.evalLosses(SECOND)).hasSize(2);
    }
}
