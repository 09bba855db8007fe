package dev.finetune.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Kueue for the Kueue scenarios: installed once per run with {@code e2e/kueue/kueue.sh install} (the manager built
 * from the Go module proxy, loaded into the Kind cluster) when the suite runs on a Kind cluster of the project's tool,
 * else expected on the cluster already; and one scenario's queue: a ClusterQueue named after the scenario's
 * namespace, admitting only that namespace, with quotas on cpu, memory and nvidia.com/gpu, and LocalQueue
 * {@value #LOCAL_QUEUE} in the namespace. Kueue manages only namespaces labelled {@value #NAMESPACE_LABEL}=enabled
 * (e2e/kueue/controller_manager_config.yaml), so the other scenarios on the cluster never meet it.
 */
final class KueueQueue {

    static final String NAMESPACE_LABEL = "finetune.dev/kueue";
    static final String LOCAL_QUEUE = "team";
    static final String FLAVOR = "ft-e2e-default";
    static final String HIGH = "ft-e2e-high";
    static final String LOW = "ft-e2e-low";
    static final String GPU = "nvidia.com/gpu";
    private static final ResourceDefinitionContext WORKLOADS = new ResourceDefinitionContext.Builder()
            .withGroup("kueue.x-k8s.io").withVersion("v1beta2").withKind("Workload").withPlural("workloads")
            .withNamespaced(true).build();
    private static final Duration INSTALL_LIMIT = Duration.ofMinutes(20);
    private static boolean installed;

    private final KubernetesClient client;
    private final TestNamespace ns;

    private KueueQueue(KubernetesClient client, TestNamespace ns) {
        this.client = client;
        this.ns = ns;
    }

    /**
     * Kueue on the cluster, the namespace labelled for it, the priority classes {@value #HIGH} (1000) and {@value #LOW}
     * (100), and the scenario's ClusterQueue with these quotas (Kueue-style quantities, e.g. "400m", "4Gi", "4"),
     * preempting lower-priority workloads inside it.
     */
    static KueueQueue create(E2eCluster cluster, TestNamespace ns, String cpu, String memory, String gpus) {
        ensureInstalled(cluster);
        KubernetesClient client = cluster.client();
        client.namespaces().withName(ns.name()).edit(n -> {
            n.getMetadata().getLabels().put(NAMESPACE_LABEL, "enabled");
            return n;
        });
        KueueQueue queue = new KueueQueue(client, ns);
        queue.applyClusterScoped("""
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: ResourceFlavor
                metadata: {name: %s}
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: WorkloadPriorityClass
                metadata: {name: %s}
                value: 1000
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: WorkloadPriorityClass
                metadata: {name: %s}
                value: 100
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: ClusterQueue
                metadata: {name: %s}
                spec:
                  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}
                  preemption: {withinClusterQueue: LowerPriority}
                  resourceGroups:
                    - coveredResources: [cpu, memory, %s]
                      flavors:
                        - name: %s
                          resources:
                            - {name: cpu, nominalQuota: "%s"}
                            - {name: memory, nominalQuota: "%s"}
                            - {name: %s, nominalQuota: "%s"}
                """.formatted(FLAVOR, HIGH, LOW, ns.name(), ns.name(), GPU, FLAVOR, cpu, memory, GPU, gpus));
        ns.apply("""
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: LocalQueue
                metadata: {name: %s}
                spec: {clusterQueue: %s}
                """.formatted(LOCAL_QUEUE, ns.name()));
        return queue;
    }

    /**
     * Installs Kueue unless this run did already: on a Kind cluster of the project's tool with kueue.sh (idempotent),
     * elsewhere it must be there (docs/kueue.md says how).
     */
    private static synchronized void ensureInstalled(E2eCluster cluster) {
        if (installed) {
            return;
        }
        E2eSettings settings = cluster.settings();
        if (settings.cluster() == E2eSettings.ClusterMode.KIND && settings.kindTool() == E2eSettings.KindTool.PROJECT) {
            Path kubeconfig = cluster.kubeconfigFile(settings.repo().resolve("e2e/target/kueue/kubeconfig.yaml"));
            System.out.println("[e2e] installing Kueue: bash e2e/kueue/kueue.sh install --name " + settings.kindName());
            long t0 = System.nanoTime();
            Processes.run(settings.repo(), INSTALL_LIMIT,
                    List.of("bash", "e2e/kueue/kueue.sh", "install", "--name", settings.kindName()),
                    Map.of("KUBECONFIG", kubeconfig.toString()));
            System.out.printf("[e2e] Kueue installed in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        } else if (cluster.client().apiextensions().v1().customResourceDefinitions()
                .withName("clusterqueues.kueue.x-k8s.io").get() == null) {
            throw new IllegalStateException("Kueue is not installed on this cluster and the suite installs it only on a Kind "
                    + "cluster of the project's tool (-De2e.cluster=kind -De2e.kind.tool=project): install it first, "
                    + "docs/kueue.md");
        }
        installed = true;
    }

    /** Advertises {@code count} fake nvidia.com/gpu on every node, through the node status as a device plugin would. */
    void advertiseGpus(int count) {
        for (var node : client.nodes().list().getItems()) {
            client.nodes().withName(node.getMetadata().getName()).editStatus(n -> new NodeBuilder(n).editStatus()
                    .addToCapacity(GPU, new Quantity(Integer.toString(count)))
                    .addToAllocatable(GPU, new Quantity(Integer.toString(count)))
                    .endStatus().build());
        }
    }

    /**
     * The Workload Kueue made for the FineTuneJob's worker Job of this attempt, as JSON, once {@code state} holds for it
     * ({@code what} names the state in a timeout's message).
     */
    JsonNode awaitWorkload(String job, int attempt, String what, java.util.function.Predicate<JsonNode> state, Duration limit) {
        String workerJob = job + "-attempt-" + attempt;
        return await("the Kueue Workload of Job " + workerJob + " " + what).atMost(limit)
                .pollInterval(Duration.ofSeconds(1)).until(() -> workloadOf(workerJob), w -> w != null && state.test(w));
    }

    /** A Workload that holds quota in its ClusterQueue. */
    static boolean admitted(JsonNode workload) {
        return condition(workload, "QuotaReserved").startsWith("True ");
    }

    private JsonNode workloadOf(String workerJob) {
        for (GenericKubernetesResource w : client.genericKubernetesResources(WORKLOADS).inNamespace(ns.name()).list().getItems()) {
            if (w.getMetadata().getOwnerReferences().stream().anyMatch(o -> workerJob.equals(o.getName()))) {
                return Serialization.jsonMapper().valueToTree(w);
            }
        }
        return null;
    }

    /** The Workload's condition as "STATUS REASON: message"; "(no TYPE)" when absent. */
    static String condition(JsonNode workload, String type) {
        for (JsonNode c : workload.at("/status/conditions")) {
            if (type.equals(c.path("type").asText())) {
                return c.path("status").asText() + " " + c.path("reason").asText() + ": " + c.path("message").asText();
            }
        }
        return "(no " + type + ")";
    }

    /** Deletes the ClusterQueue (Kueue finishes it once the namespace's Workloads are gone). */
    void deleteClusterQueue() {
        client.genericKubernetesResources("kueue.x-k8s.io/v1beta2", "ClusterQueue").withName(ns.name()).delete();
    }

    private void applyClusterScoped(String yaml) {
        List<HasMetadata> objects = client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        for (HasMetadata object : objects) {
            client.resource(object).fieldManager("finetune-e2e").forceConflicts().serverSideApply();
        }
    }
}
