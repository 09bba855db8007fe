package dev.finetune.e2e;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster the scenarios share (one per test run): its client, the Kind cluster behind it when the suite
 * made one, and the operator, installed once from deploy/ through the e2e kustomization.
 */
final class E2eCluster implements AutoCloseable {

    static final String OPERATOR_NAMESPACE = "finetune-system";
    static final String OPERATOR = "finetune-operator";
    /** deploy/kustomize/base plus the CPU trainer image for jobs without spec.image (gpus: 0). */
    static final String OPERATOR_KUSTOMIZATION = "e2e/trainer/operator";

    private final E2eSettings settings;
    private final KindCluster kind;
    private final KubernetesClient client;
    private boolean operatorInstalled;
    private java.net.InetAddress hostAddress;
    private HubServer hub;
    /** The operator's hub endpoint setting (docs/storage.md). */
    static final String HUB_ENDPOINT_ENV = "FINETUNE_TRAINER_HUB_ENDPOINT";

    private E2eCluster(E2eSettings settings, KindCluster kind, KubernetesClient client) {
        this.settings = settings;
        this.kind = kind;
        this.client = client;
    }

    static E2eCluster start() {
        E2eSettings settings = E2eSettings.fromSystemProperties();
        E2eCluster cluster = switch (settings.cluster()) {
            case KUBECONFIG -> new E2eCluster(settings, null, new KubernetesClientBuilder().build());
            case KIND -> {
                KindCluster kind = KindCluster.findOrCreate(settings,
                        List.of(settings.operatorImage(), settings.trainerImage(), settings.smokeImage()));
                Config config = Config.fromKubeconfig(kind.kubeconfig());
                yield new E2eCluster(settings, kind, new KubernetesClientBuilder().withConfig(config).build());
            }
        };
        cluster.checkReachable();
        return cluster;
    }

    private void checkReachable() {
        try {
            var version = client.getKubernetesVersion();
            System.out.println("[e2e] cluster " + client.getMasterUrl() + ": Kubernetes " + version.getGitVersion());
        } catch (RuntimeException e) {
            close();
            throw new IllegalStateException("no cluster answers at " + client.getMasterUrl() + " (" + e.getMessage()
                    + "): point KUBECONFIG at one, or let the suite create a Kind cluster with -De2e.cluster=kind", e);
        }
    }

    KubernetesClient client() {
        return client;
    }

    E2eSettings settings() {
        return settings;
    }

    /**
     * Installs the operator (idempotent: server-side apply of the rendered kustomization with the images under
     * test) and waits until its Deployment has rolled out.
     */
    synchronized void installOperator() {
        if (operatorInstalled) {
            return;
        }
        List<HasMetadata> objects = renderedOperator();
        assertThat(objects).as("objects rendered from " + OPERATOR_KUSTOMIZATION)
                .anyMatch(o -> o instanceof Deployment d && OPERATOR.equals(d.getMetadata().getName()));
        for (HasMetadata object : objects) {
            if (object instanceof Deployment deployment && OPERATOR.equals(deployment.getMetadata().getName())) {
                useImagesUnderTest(deployment);
            }
            client.resource(object).fieldManager("finetune-e2e").forceConflicts().serverSideApply();
        }
        awaitOperatorRollout(Duration.ofMinutes(3));
        operatorInstalled = true;
    }

    private List<HasMetadata> renderedOperator() {
        String rendered = Processes.run(settings.repo(), Duration.ofMinutes(2),
                List.of(settings.kubectl(), "kustomize", OPERATOR_KUSTOMIZATION));
        return client.load(new ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8))).items();
    }

    /**
     * Deletes what {@link #installOperator()} applied, except the CRD (and its FineTuneJobs) and the namespace, and
     * waits until the operator's pods are gone: for a scenario that installs the operator another way. The next
     * {@link #installOperator()} installs it again.
     */
    synchronized void uninstallOperator() {
        for (HasMetadata object : renderedOperator()) {
            if (!(object instanceof io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition)
                    && !(object instanceof io.fabric8.kubernetes.api.model.Namespace)) {
                client.resource(object).delete();
            }
        }
        await("the operator's pods to be gone").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .until(() -> operatorPods().isEmpty());
        operatorInstalled = false;
    }

    /**
     * A kubeconfig file for external tools (helm): the Kind cluster's, written to a temporary file, or null when the
     * suite runs against the cluster KUBECONFIG names (the tools read it themselves).
     */
    java.nio.file.Path kubeconfigFile() {
        if (kind == null) {
            return null;
        }
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("e2e-kubeconfig", ".yaml");
            file.toFile().deleteOnExit();
            java.nio.file.Files.writeString(file, kind.kubeconfig());
            return file;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write the Kind cluster's kubeconfig", e);
        }
    }

    private void useImagesUnderTest(Deployment deployment) {
        var container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        container.setImage(settings.operatorImage());
        List<EnvVar> env = new ArrayList<>(container.getEnv());
        env.removeIf(e -> e.getName().equals("FINETUNE_TRAINER_CPU_IMAGE") || e.getName().equals(HUB_ENDPOINT_ENV));
        env.add(new EnvVar("FINETUNE_TRAINER_CPU_IMAGE", settings.trainerImage(), null));
        if (kind != null) {
            try {
                env.add(new EnvVar(HUB_ENDPOINT_ENV, hub().url(), null));
            } catch (RuntimeException e) {
                // only the scenarios that download from the hub need it; they fail with this reason themselves
                System.out.println("[e2e] the operator gets no hub endpoint: " + e.getMessage());
            }
        }
        container.setEnv(env);
    }

    /**
     * Where pods reach a server the suite runs on this machine: the Kind network's gateway. Only for a Kind cluster
     * the suite manages (a cluster found through KUBECONFIG may be anywhere).
     */
    synchronized java.net.InetAddress hostAddressForPods() {
        if (kind == null) {
            throw new IllegalStateException("this scenario runs servers on the machine for the pods to reach, which needs"
                    + " the Kind cluster: run it with -De2e.cluster=kind");
        }
        if (hostAddress == null) {
            hostAddress = kind.hostAddress();
        }
        return hostAddress;
    }

    /**
     * The suite's Hugging Face Hub compatible server on this machine, for the pods; the operator it installs on a Kind
     * cluster has it as hub endpoint ({@code FINETUNE_TRAINER_HUB_ENDPOINT}), so a scenario only publishes its
     * repositories (names of its own) and needs no operator restart.
     */
    synchronized HubServer hub() {
        if (hub == null) {
            try {
                hub = HubServer.start(hostAddressForPods());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot start the suite's hub on " + hostAddress, e);
            }
            System.out.println("[e2e] the suite's hub: " + hub.url());
        }
        return hub;
    }

    /** Until every replica of the operator's Deployment runs the current template and is available. */
    void awaitOperatorRollout(Duration limit) {
        await("the operator's Deployment to roll out").atMost(limit).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> {
                    Deployment d = operatorDeployment();
                    assertThat(d).isNotNull();
                    int replicas = Objects.requireNonNullElse(d.getSpec().getReplicas(), 1);
                    var status = d.getStatus();
                    assertThat(status).isNotNull();
                    assertThat(status.getObservedGeneration()).isGreaterThanOrEqualTo(d.getMetadata().getGeneration());
                    assertThat(status.getUpdatedReplicas()).as("updated replicas").isEqualTo(replicas);
                    assertThat(status.getAvailableReplicas()).as("available replicas").isEqualTo(replicas);
                    assertThat(status.getReplicas()).as("replicas (no old pod left)").isEqualTo(replicas);
                });
    }

    Deployment operatorDeployment() {
        return client.apps().deployments().inNamespace(OPERATOR_NAMESPACE).withName(OPERATOR).get();
    }

    List<Pod> operatorPods() {
        return client.pods().inNamespace(OPERATOR_NAMESPACE)
                .withLabel("app.kubernetes.io/name", OPERATOR).list().getItems();
    }

    /** The last lines of every operator pod's log, for diagnostics. */
    String operatorLogs(int lines) {
        StringBuilder out = new StringBuilder();
        for (Pod pod : operatorPods()) {
            out.append("----- operator pod ").append(pod.getMetadata().getName()).append(" (last ").append(lines)
                    .append(" lines)\n");
            try {
                out.append(client.pods().inNamespace(OPERATOR_NAMESPACE).withName(pod.getMetadata().getName())
                        .tailingLines(lines).getLog()).append('\n');
            } catch (RuntimeException e) {
                out.append("(no log: ").append(e.getMessage()).append(")\n");
            }
        }
        return out.toString();
    }

    /**
     * A kubeconfig file for tools the suite starts (Argo CD, Kueue as host processes): the Kind cluster's, written
     * to file; otherwise the one KUBECONFIG (or ~/.kube/config) names.
     */
    java.nio.file.Path kubeconfigFile(java.nio.file.Path file) {
        if (kind == null) {
            String env = System.getenv("KUBECONFIG");
            java.nio.file.Path path = env != null && !env.isBlank()
                    ? java.nio.file.Path.of(env.split(java.io.File.pathSeparator)[0])
                    : java.nio.file.Path.of(System.getProperty("user.home"), ".kube", "config");
            return path.toAbsolutePath();
        }
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.writeString(file, kind.kubeconfig());
            return file.toAbsolutePath();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (hub != null) {
            hub.close();
        }
        client.close();
        if (kind != null) {
            kind.close();
        }
    }
}
