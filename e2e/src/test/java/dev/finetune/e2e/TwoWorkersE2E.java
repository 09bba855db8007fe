package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gang of two CPU workers (port of e2e/trainer/suite.sh's two-workers job and its NetworkPolicy probes): the
 * quickstart with {@code resources.workers: 2} on ReadWriteMany claims, whose ranks form a TCP all-reduce ring through
 * the headless Service and finish in lockstep. While it trains, probes from inside the namespace show that the
 * namespace's default-deny is enforced (a pod without a job's labels reaches neither rank 0's rendezvous port, nor the
 * API server, nor DNS) and that the operator's per-job NetworkPolicy opens exactly what a worker needs (the gang, DNS,
 * the API server), and not the kubelet.
 * Needs a default StorageClass that binds ReadWriteMany (the project's Kind node image has one; see docs/testing.md).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoWorkersE2E {

    private static final String JOB = "two-workers";
    private static final String PROBE = "netpol-probe";
    private static final int EPOCHS = 4;
    /** Two workers beside the probe pod, the control plane and the operator on a 2-core node. */
    private static final String WORKER_CPU = "300m";
    private static final String CLUSTER_DNS_NAME = "kubernetes.default.svc.cluster.local";
    private static final int RENDEZVOUS_PORT = 29500;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.of(cluster -> {
        checkTheStorageClassBindsReadWriteMany(cluster);
        return TestNamespace.withQuickstartAssets(cluster, "ft-two-workers-e2e", "ReadWriteMany");
    });

    @BeforeAll
    static void startTheGang() {
        TestNamespace ns = SCENARIO.ns();
        // probes the policies from inside the namespace without any job's labels: only default-deny applies to it
        ns.startProbePod(PROBE, SCENARIO.cluster().settings().trainerImage(), java.util.Map.of("app", "netpol-probe"));
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB, job -> ((ObjectNode) job.at("/spec/resources"))
                .put("workers", 2).put("cpu", WORKER_CPU).put("memory", "1536Mi"));
    }

    /**
     * rancher's local-path provisioner (stock Kind's default StorageClass) binds ReadWriteMany only with
     * sharedFileSystemPath set; without it the claims would stay Pending and the scenario time out. Other
     * provisioners are taken at their word.
     */
    private static void checkTheStorageClassBindsReadWriteMany(E2eCluster cluster) {
        var defaultClass = cluster.client().storage().v1().storageClasses().list().getItems().stream()
                .filter(c -> "true".equals(c.getMetadata().getAnnotations() == null ? null
                        : c.getMetadata().getAnnotations().get("storageclass.kubernetes.io/is-default-class")))
                .findFirst();
        if (defaultClass.isEmpty() || !"rancher.io/local-path".equals(defaultClass.get().getProvisioner())) {
            return;
        }
        var config = cluster.client().configMaps().inNamespace("local-path-storage").withName("local-path-config").get();
        String json = config == null || config.getData() == null ? "" : config.getData().getOrDefault("config.json", "");
        assertThat(json).as("the default StorageClass %s (local-path) must bind ReadWriteMany for a gang of two: "
                + "ConfigMap local-path-storage/local-path-config needs \"sharedFileSystemPath\" in config.json "
                + "(the command is in docs/testing.md, \"The JUnit e2e suite\")",
                defaultClass.get().getMetadata().getName()).contains("sharedFileSystemPath");
    }

    /** The worker pod of rank 0 or 1 of attempt 1 (Indexed Job pods are named {@code <job>-attempt-1-<rank>-...}). */
    private static Optional<String> rankPod(int rank) {
        return SCENARIO.ns().workers(JOB, 1).stream().map(p -> p.getMetadata().getName())
                .filter(n -> n.startsWith(JOB + "-attempt-1-" + rank + "-")).findFirst();
    }

    private static boolean logHas(String pod, String text) {
        try {
            return SCENARIO.ns().log(pod).contains(text);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean tcp(String fromPod, String host, int port) {
        return SCENARIO.ns().reachesTcp(fromPod, host, port);
    }

    private static boolean dns(String fromPod, String name) {
        return SCENARIO.ns().resolves(fromPod, name);
    }

    /** Probed only after the ring formed: rank 0's rendezvous port must not see a stray connection during rendezvous. */
    @Test
    @Order(1)
    void networkPolicyIsEnforcedAndTheJobsPolicyOpensWhatAWorkerNeeds() {
        KubernetesClient client = SCENARIO.client();
        await(JOB + "'s ring to form (both ranks connected)").atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(2)).until(() -> {
                    Optional<String> rank0 = rankPod(0);
                    Optional<String> rank1 = rankPod(1);
                    return rank0.isPresent() && rank1.isPresent() && logHas(rank0.get(), "rank 0 of 2 connected")
                            && logHas(rank1.get(), "rank 1 of 2 connected");
                });
        String rank0 = rankPod(0).orElseThrow();
        String rank1 = rankPod(1).orElseThrow();
        Pod rank0Pod = client.pods().inNamespace(SCENARIO.ns().name()).withName(rank0).get();
        String rank0Ip = rank0Pod.getStatus().getPodIP();
        String nodeIp = rank0Pod.getStatus().getHostIP();
        String apiIp = client.services().inNamespace("default").withName("kubernetes").get().getSpec()
                .getClusterIP();

        // Probes that need the gang alive first, while it trains; the unlabelled pod's own probes last. A positive
        // probe gets a second try (one failure could be a slow exec); a blocked probe must fail twice in a row.
        List<String> timeline = new ArrayList<>();
        SoftAssertions softly = new SoftAssertions();
        long started = System.nanoTime();
        softly.assertThat(dns(rank0, CLUSTER_DNS_NAME) || dns(rank0, CLUSTER_DNS_NAME))
                .as("rank 0 resolves names (the job's policy allows port 53)").isTrue();
        softly.assertThat(tcp(rank0, apiIp, 443) || tcp(rank0, apiIp, 443))
                .as("rank 0 reaches the API server through " + apiIp + ":443 (the policy names the endpoint behind it)")
                .isTrue();
        softly.assertThat(tcp(rank1, rank0Ip, RENDEZVOUS_PORT) || tcp(rank1, rank0Ip, RENDEZVOUS_PORT))
                .as("rank 1 reaches rank 0's rendezvous port " + rank0Ip + ":" + RENDEZVOUS_PORT).isTrue();
        softly.assertThat(tcp(PROBE, rank0Ip, RENDEZVOUS_PORT) || tcp(PROBE, rank0Ip, RENDEZVOUS_PORT))
                .as("a pod without the job's labels reaches rank 0's rendezvous port (default-deny not enforced?)")
                .isFalse();
        softly.assertThat(tcp(rank1, rank0Ip, RENDEZVOUS_PORT) || tcp(rank1, rank0Ip, RENDEZVOUS_PORT))
                .as("rank 1 still reaches rank 0's port after that (so the probe was refused by policy)").isTrue();
        // kubectl exec reaches kubelet at the node's address on 10250, so it listens there; the policy does not open it
        softly.assertThat(tcp(rank0, nodeIp, 10250) || tcp(rank0, nodeIp, 10250))
                .as("rank 0 reaches what its policy does not open (kubelet, " + nodeIp + ":10250)").isFalse();
        String rank0Phase = client.pods().inNamespace(SCENARIO.ns().name()).withName(rank0).get().getStatus().getPhase();
        softly.assertThat(rank0Phase).as("rank 0 still runs after the probes from it (a refusal from an ended pod"
                + " proves nothing about the policy)").isEqualTo("Running");
        timeline.add("probes from the gang: " + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
        softly.assertThat(tcp(PROBE, apiIp, 443) || tcp(PROBE, apiIp, 443))
                .as("the pod without the job's labels reaches the API server (" + apiIp + ":443)").isFalse();
        softly.assertThat(dns(PROBE, CLUSTER_DNS_NAME) || dns(PROBE, CLUSTER_DNS_NAME))
                .as("the pod without the job's labels resolves names").isFalse();
        timeline.add("all probes: " + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
        System.out.println("[e2e] NetworkPolicy probes while " + JOB + " trained: " + String.join(", ", timeline));
        softly.assertAll();
    }

    @Test
    @Order(2)
    void theGangSucceedsWithFallingEvalLossesInLockstep() {
        TestNamespace ns = SCENARIO.ns();
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).as("phase of " + JOB).isEqualTo("Succeeded");
        JsonNode status = ns.job(JOB).path("status");
        List<Double> losses = new ArrayList<>();
        for (JsonNode row : status.path("history")) {
            if (row.hasNonNull("evalLoss")) {
                losses.add(row.path("evalLoss").asDouble());
                double exp = Math.exp(row.path("evalLoss").asDouble());
                assertThat(row.path("perplexity").asDouble()).as("epoch " + row.path("epoch").asInt()
                        + ": perplexity = exp(eval loss)").isCloseTo(exp, org.assertj.core.api.Assertions.within(2 * Math.ulp(exp)));
            }
        }
        assertThat(losses).as("eval losses of the epochs").hasSize(EPOCHS);
        for (int i = 1; i < losses.size(); i++) {
            assertThat(losses.get(i)).as("eval loss of epoch " + (i + 1) + " below epoch " + i + "'s; all: " + losses)
                    .isLessThan(losses.get(i - 1));
        }
        assertThat(ns.field(JOB, "/status/display/gpus")).as("status.display.gpus").isEqualTo("2xcpu");
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), JOB)).containsEntry("GPUS", "2xcpu")
                .containsEntry("PHASE", "Succeeded");
        assertThat(ns.workers(JOB, 1)).as("attempt 1's worker pods").hasSize(2);
        String rank0 = rankPod(0).orElseThrow();
        String rank1 = rankPod(1).orElseThrow();
        assertThat(ns.log(rank0)).contains("rank 0 of 2 connected");
        // rank 0 reports the steps in status; rank 1 says where it stopped: the same step, in lockstep
        assertThat(ns.log(rank1)).contains("rank 1 of 2 connected")
                .contains("rank 1 done at step " + status.at("/progress/totalSteps").asInt());
    }
}
