package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GPU requests are what Kueue accounts, workers x gpus (issue 14). The node advertises 8 fake nvidia.com/gpu through a
 * status patch and the ClusterQueue has a quota of 4: a gang of 2 workers x 2 GPUs is admitted holding exactly 4, its
 * pods request 2 each and are scheduled on the fake GPUs (the trainer stand-in runs; CI has no CUDA), while a gang of 3
 * x 2 = 6 waits Queued for nvidia.com/gpu although each of its pods alone (2) would fit the quota.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KueueGpuAccountingE2E {

    private static final String FITS = "two-by-two";
    private static final String TOO_BIG = "three-by-two";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.of(cluster -> {
        cluster.installOperator();
        TestNamespace ns = TestNamespace.create(cluster.client(), "ft-kueue-gpus-e2e");
        ns.claimsWithAccessMode("ReadWriteMany", "models", "data", "outputs");
        return ns;
    });
    private static KueueQueue queue;

    @BeforeAll
    static void fourGpusOfQuotaOnANodeWithEight() {
        queue = KueueQueue.create(SCENARIO.cluster(), SCENARIO.ns(), "2", "4Gi", "4");
        queue.advertiseGpus(8);
    }

    @AfterAll
    static void deleteTheQueue() {
        SCENARIO.deleteNamespaceUnlessFailed();
        if (queue != null) {
            queue.deleteClusterQueue();
        }
    }

    /** A stand-in job (the smoke image exits 0 at once) in LocalQueue team: workers x gpus GPUs. */
    private static void createGang(String name, int workers, int gpus) {
        SCENARIO.ns().apply("""
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                  labels: {kueue.x-k8s.io/queue-name: %s}
                spec:
                  image: %s
                  model: {pvc: {claimName: models, path: tiny}}
                  dataset: {pvc: {claimName: data, path: train.jsonl}}
                  training: {epochs: 1, precision: fp32}
                  resources: {gpus: %d, workers: %d, cpu: 100m, memory: 128Mi}
                  output: {pvc: {claimName: outputs, path: %s}}
                """.formatted(name, KueueQueue.LOCAL_QUEUE, SCENARIO.cluster().settings().smokeImage(), gpus, workers, name));
    }

    @Test
    @Order(1)
    void aGangOfTwoByTwoHoldsFourGpusOfQuotaAndItsPodsRunOnTheFakeGpus() {
        TestNamespace ns = SCENARIO.ns();
        createGang(FITS, 2, 2);
        JsonNode workload = queue.awaitWorkload(FITS, 1, "admitted", KueueQueue::admitted, Duration.ofMinutes(2));
        System.out.println("[e2e] " + FITS + "'s admission: " + workload.at("/status/admission"));
        JsonNode assignment = workload.at("/status/admission/podSetAssignments/0");
        assertThat(workload.at("/status/admission/clusterQueue").asText()).isEqualTo(ns.name());
        assertThat(assignment.path("count").asInt()).as("pods admitted").isEqualTo(2);
        assertThat(assignment.at("/resourceUsage/" + KueueQueue.GPU.replace("/", "~1")).asText())
                .as("GPUs Kueue accounts for the gang: workers x gpus").isEqualTo("4");
        assertThat(assignment.at("/resourceUsage/cpu").asText()).isEqualTo("200m");

        assertThat(ns.awaitTerminal(FITS, Duration.ofMinutes(3))).isEqualTo("Succeeded");
        List<Pod> pods = ns.workers(FITS, 1);
        assertThat(pods).hasSize(2).allSatisfy(pod -> {
            assertThat(pod.getSpec().getNodeName()).as("scheduled on the node's fake GPUs").isNotBlank();
            assertThat(pod.getSpec().getContainers().getFirst().getResources().getRequests().get(KueueQueue.GPU))
                    .hasToString("2");
        });
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), FITS)).containsEntry("GPUS", "2x2");
    }

    @Test
    @Order(2)
    void aGangOfThreeByTwoWaitsForGpusThoughEachPodWouldFit() {
        TestNamespace ns = SCENARIO.ns();
        createGang(TOO_BIG, 3, 2);
        JsonNode workload = queue.awaitWorkload(TOO_BIG, 1, "refused for nvidia.com/gpu",
                w -> KueueQueue.condition(w, "QuotaReserved").contains(KueueQueue.GPU), Duration.ofMinutes(1));
        String reason = KueueQueue.condition(workload, "QuotaReserved");
        System.out.println("[e2e] " + TOO_BIG + ": QuotaReserved " + reason);
        assertThat(reason).startsWith("False ").contains("insufficient quota for nvidia.com/gpu", "(6)", "(4)");

        ns.awaitField(TOO_BIG, "/status/phase", "Queued", Duration.ofMinutes(1));
        org.awaitility.Awaitility.await("the job's message to quote Kueue").atMost(Duration.ofMinutes(1))
                .until(() -> PrinterColumns.of(SCENARIO.client(), ns.name(), TOO_BIG).get("MESSAGE"),
                        m -> m.contains("insufficient quota for nvidia.com/gpu"));
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), TOO_BIG)).containsEntry("GPUS", "3x2");
        assertThat(ns.pods("finetune.dev/job", TOO_BIG)).isEmpty();
    }
}
