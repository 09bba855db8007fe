package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two operator replicas with leader election (Lease finetune-operator), the leader pod deleted while a job trains:
 * another replica takes the Lease (whichever leads next: the standby, or the Deployment's replacement pod if it
 * wins the race), no second worker Job appears, and the job's status keeps updating through to Succeeded. The time
 * from the deletion to the new holder's first renewal is printed and recorded in docs/testing.md.
 */
class LeaderFailoverE2E {

    private static final String JOB = "failover";
    private static final String LEASE = "finetune-operator";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withQuickstartAssets("ft-failover-e2e");

    @BeforeAll
    static void twoReplicas() {
        SCENARIO.client().apps().deployments().inNamespace(E2eCluster.OPERATOR_NAMESPACE).withName(E2eCluster.OPERATOR).scale(2);
        // a standby may report not-ready while it waits on the Lease: wait for two started pods, not for availability
        await("two operator pods started").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .until(() -> SCENARIO.cluster().operatorPods().stream().filter(LeaderFailoverE2E::started).count() == 2
                        && SCENARIO.cluster().operatorPods().size() == 2);
        await("Lease " + LEASE + " held").atMost(Duration.ofMinutes(1))
                .until(() -> lease() != null && lease().getSpec().getHolderIdentity() != null);
    }

    @AfterAll
    static void oneReplicaAgain() {
        SCENARIO.deleteNamespaceUnlessFailed();
        if (SCENARIO.cluster() != null) {
            SCENARIO.client().apps().deployments().inNamespace(E2eCluster.OPERATOR_NAMESPACE).withName(E2eCluster.OPERATOR).scale(1);
            SCENARIO.cluster().awaitOperatorRollout(Duration.ofMinutes(3));
        }
    }

    private static boolean started(Pod pod) {
        return "Running".equals(pod.getStatus().getPhase()) && pod.getMetadata().getDeletionTimestamp() == null
                && pod.getStatus().getContainerStatuses().stream().allMatch(c -> Boolean.TRUE.equals(c.getStarted()));
    }

    private static Lease lease() {
        return SCENARIO.client().leases().inNamespace(E2eCluster.OPERATOR_NAMESPACE).withName(LEASE).get();
    }

    @Test
    void anotherReplicaTakesOverWithoutADuplicateWorkerJob() {
        TestNamespace ns = SCENARIO.ns();
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB,
                j -> ((ObjectNode) j.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi"));
        await("the job training, with a reported step").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ns.field(JOB, "/status/phase").equals("Training") && !ns.field(JOB, "/status/progress/step").isEmpty());
        String leader = lease().getSpec().getHolderIdentity();
        List<String> pods = SCENARIO.cluster().operatorPods().stream().map(p -> p.getMetadata().getName()).toList();
        assertThat(pods).as("operator pods").hasSize(2).contains(leader);
        int stepBefore = Integer.parseInt(ns.field(JOB, "/status/progress/step"));

        Instant deleted = Instant.now();
        SCENARIO.client().pods().inNamespace(E2eCluster.OPERATOR_NAMESPACE).withName(leader).delete();
        Lease taken = await("another replica holds Lease " + LEASE).atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(250)).until(LeaderFailoverE2E::lease, l -> l != null
                        && l.getSpec().getHolderIdentity() != null && !leader.equals(l.getSpec().getHolderIdentity()));
        Duration takeover = Duration.between(deleted, Instant.now());
        String standby = pods.stream().filter(p -> !p.equals(leader)).findFirst().orElseThrow();
        String next = taken.getSpec().getHolderIdentity();
        System.out.printf("[e2e] leader failover: %s deleted, %s (%s) holds the Lease after %.1f s%n", leader, next,
                next.equals(standby) ? "the standby" : "a replacement pod", takeover.toMillis() / 1000.0);

        await("status keeps updating under the new leader").atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    String step = ns.field(JOB, "/status/progress/step");
                    return ns.field(JOB, "/status/phase").equals("Succeeded")
                            || (!step.isEmpty() && Integer.parseInt(step) > stepBefore);
                });
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(SCENARIO.client().batch().v1().jobs().inNamespace(ns.name()).withLabel("finetune.dev/job", JOB).list().getItems())
                .as("worker Jobs: only attempt 1's").extracting(j -> j.getMetadata().getName())
                .containsExactly(JOB + "-attempt-1");
        assertThat(ns.field(JOB, "/status/attempt") + " " + ns.field(JOB, "/status/restarts")).isEqualTo("1 0");
        List<Pod> workers = ns.workers(JOB, 1);
        assertThat(workers).as("one worker pod").hasSize(1);
    }
}
