package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator installed with the Helm chart (deploy/helm/finetune-operator) instead of the kustomization: the
 * release's Deployment runs the image under test with the values given, reconciles a FineTuneJob (the trainer
 * stand-in, which exits 0) to Succeeded, and {@code helm uninstall} removes what the chart made. The kustomize install
 * is taken down first (the chart's cluster-scoped objects bear the same names) and comes back with the next scenario.
 * The helm binary: {@code -De2e.helm=<path>} (default {@code helm} on PATH).
 */
@ExtendWith(E2eExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HelmChartE2E {

    private static final String RELEASE = "finetune";
    private static final String CHART = "deploy/helm/finetune-operator";
    private static final String JOB = "helm-smoke";

    private static E2eCluster cluster;
    private static KubernetesClient client;
    private static TestNamespace ns;
    private static Path kubeconfig;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void installWithHelm(E2eCluster shared) {
        cluster = shared;
        client = shared.client();
        kubeconfig = shared.kubeconfigFile();
        cluster.uninstallOperator();
        String operatorImage = shared.settings().operatorImage();
        int colon = operatorImage.lastIndexOf(':');
        helm("upgrade", "--install", RELEASE, CHART, "--namespace", E2eCluster.OPERATOR_NAMESPACE, "--wait",
                "--timeout", "3m",
                "--set", "image.repository=" + operatorImage.substring(0, colon),
                "--set", "image.tag=" + operatorImage.substring(colon + 1),
                "--set", "image.pullPolicy=IfNotPresent",
                "--set", "trainer.image=" + shared.settings().smokeImage(),
                "--set", "trainer.imagePullPolicy=IfNotPresent");
        cluster.awaitOperatorRollout(Duration.ofMinutes(3));
        ns = TestNamespace.create(client, "ft-helm-e2e");
        ns.claims("models", "data", "outputs");
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
        if (client != null && cluster.operatorDeployment() != null
                && "Helm".equals(cluster.operatorDeployment().getMetadata().getLabels().get("app.kubernetes.io/managed-by"))) {
            helm("uninstall", RELEASE, "--namespace", E2eCluster.OPERATOR_NAMESPACE, "--wait", "--timeout", "3m");
        }
    }

    private static String helm(String... args) {
        List<String> command = new ArrayList<>(List.of(System.getProperty("e2e.helm", "helm")));
        command.addAll(List.of(args));
        Map<String, String> environment = kubeconfig == null ? Map.of() : Map.of("KUBECONFIG", kubeconfig.toString());
        return Processes.run(cluster.settings().repo(), Duration.ofMinutes(5), command, environment);
    }

    @Test
    @Order(1)
    void theReleaseRunsTheImageUnderTestWithTheValuesGiven() {
        assertThat(helm("list", "--namespace", E2eCluster.OPERATOR_NAMESPACE, "--deployed", "--short").lines())
                .as("deployed releases").contains(RELEASE);
        Deployment deployment = cluster.operatorDeployment();
        assertThat(deployment.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "Helm");
        var container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo(cluster.settings().operatorImage());
        assertThat(container.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("FINETUNE_TRAINER_IMAGE");
            assertThat(e.getValue()).isEqualTo(cluster.settings().smokeImage());
        });
    }

    @Test
    @Order(2)
    void theHelmInstalledOperatorReconcilesAJobToSucceeded() {
        ns.apply("""
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s}
                spec:
                  model: {pvc: {claimName: models, path: tiny}}
                  dataset: {pvc: {claimName: data, path: train.jsonl}}
                  training: {epochs: 1, precision: fp32}
                  resources: {gpus: 0, workers: 1, cpu: 100m, memory: 128Mi}
                  output: {pvc: {claimName: outputs, path: runs/helm}}
                """.formatted(JOB));
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(5))).as("phase of " + JOB).isEqualTo("Succeeded");
        assertThat(ns.condition(JOB, "Ready")).isEqualTo("True Succeeded");
        assertThat(client.network().v1().networkPolicies().inNamespace(ns.name()).withName(JOB).get())
                .as("the job's NetworkPolicy (networkPolicy.enabled: true)").isNotNull();
    }

    @Test
    @Order(3)
    void helmUninstallRemovesTheOperator() {
        // the job first, while its operator still runs (it may hold a finalizer)
        ns.jobResource(JOB).withTimeout(2, java.util.concurrent.TimeUnit.MINUTES).delete();
        ns.jobResource(JOB).waitUntilCondition(java.util.Objects::isNull, 2, java.util.concurrent.TimeUnit.MINUTES);
        helm("uninstall", RELEASE, "--namespace", E2eCluster.OPERATOR_NAMESPACE, "--wait", "--timeout", "3m");
        assertThat(cluster.operatorDeployment()).as("the operator's Deployment after helm uninstall").isNull();
        assertThat(client.rbac().clusterRoles().withName(E2eCluster.OPERATOR).get())
                .as("ClusterRole " + E2eCluster.OPERATOR + " after helm uninstall").isNull();
    }
}
