package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Preemption by a higher-priority workload in a real Kueue (issue 14): a low-priority quickstart job fills the
 * ClusterQueue's cpu quota; right after its first checkpoint a high-priority batch Job arrives in the same queue and
 * Kueue preempts the job (suspends its worker Job: the trainer checkpoints on SIGTERM). The job shows Queued with
 * reason Preempted, counts no restart, is admitted again once the high-priority Job is done, resumes from the
 * checkpoint in the same attempt, and ends with the eval losses of the same spec trained uninterrupted beside it
 * (outside Kueue).
 */
class KueuePreemptionE2E {

    private static final String JOB = "preemptible";
    private static final String REFERENCE = "uninterrupted";
    private static final String URGENT = "urgent";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-kueue-preemption-e2e");
    private static KueueQueue queue;

    @BeforeAll
    static void aQueueForOneWorkerAndTwoJobs() {
        TestNamespace ns = SCENARIO.ns();
        queue = KueueQueue.create(SCENARIO.cluster(), ns, TestNamespace.JOB_CPU, "4Gi", "0");
        ns.createSideBySideQuickstartJobs(SCENARIO.cluster().settings().repo(), REFERENCE);
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB, j -> {
            ((ObjectNode) j.path("metadata")).putObject("labels").put("kueue.x-k8s.io/queue-name", KueueQueue.LOCAL_QUEUE)
                    .put("kueue.x-k8s.io/priority-class", KueueQueue.LOW);
            ((ObjectNode) j.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        });
    }

    @AfterAll
    static void deleteTheQueue() {
        SCENARIO.deleteNamespaceUnlessFailed();
        if (queue != null) {
            queue.deleteClusterQueue();
        }
    }

    /** A high-priority batch Job in the same LocalQueue that needs the whole cpu quota for 20 s. */
    private static void urgentWork() {
        SCENARIO.ns().apply("""
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: %s
                  labels: {kueue.x-k8s.io/queue-name: %s, kueue.x-k8s.io/priority-class: %s}
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      securityContext: %s
                      containers:
                        - name: urgent
                          image: %s
                          imagePullPolicy: IfNotPresent
                          command: [sh, -c, "sleep 20"]
                          resources: {requests: {cpu: %s, memory: 64Mi}, limits: {cpu: %s, memory: 64Mi}}
                          securityContext: %s
                """.formatted(URGENT, KueueQueue.LOCAL_QUEUE, KueueQueue.HIGH, TestNamespace.RESTRICTED_POD,
                SCENARIO.cluster().settings().smokeImage(), TestNamespace.JOB_CPU, TestNamespace.JOB_CPU,
                TestNamespace.RESTRICTED_CONTAINER));
    }

    @Test
    void preemptedItWaitsQueuedThenResumesInTheSameAttemptWithTheUninterruptedRunsEvalLosses() {
        TestNamespace ns = SCENARIO.ns();
        InterruptedRun run = new InterruptedRun(ns, JOB, REFERENCE);
        run.interruptAfterTheFirstCheckpoint("preempted by Kueue", KueuePreemptionE2E::urgentWork);

        await(JOB + " preempted").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> ns.condition(JOB, "WorkersReady"), "False Preempted"::equals);
        Map<String, String> columns = PrinterColumns.of(SCENARIO.client(), ns.name(), JOB);
        System.out.println("[e2e] kubectl get ftj " + JOB + " -o wide: " + columns);
        assertThat(columns).containsEntry("PHASE", "Queued");
        assertThat(columns.get("MESSAGE")).startsWith("Preempted by Kueue")
                .contains("queued in LocalQueue team again", "resume from checkpoint checkpoints/checkpoint-");
        assertThat(ns.field(JOB, "/status/restarts")).isEqualTo("0");
        assertThat(run.event("Preempted")).startsWith("Preempted by Kueue");

        await("the urgent Job to finish").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> SCENARIO.client().batch().v1().jobs().inNamespace(ns.name()).withName(URGENT).get()
                        .getStatus().getSucceeded(), n -> n != null && n == 1);
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts"))
                .as("the same attempt resumed; a preemption is no restart").isEqualTo("1 0");
        assertThat(run.event("Readmitted")).contains("resume from checkpoint checkpoints/checkpoint-");
        assertThat(ns.events(JOB)).extracting(Event::getReason).doesNotContain("Restarted", "Failed");
        run.assertResumedWithTheReferencesEvalLosses(1);
    }
}
