package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator installed by an Argo CD Application, as docs/gitops.md tells a user: deploy/argocd/operator-application.yaml
 * (its repoURL a file:// git repository holding a copy of deploy/) syncs a kustomization of deploy/argocd/operator (sync
 * waves: CRD and namespace -1, the operator 0) plus a quickstart FineTuneJob in wave 1, with the operator image under
 * test set by kustomize. The CRD and the available operator come before the job; the job trains to Succeeded; the
 * Application ends Healthy and Synced, every resource Synced (the CRD too: the API server stores it as the file writes
 * it, CrdOnApiServerE2E). The kustomize install of the suite is taken down first (same names) and comes back with the
 * next scenario.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArgoCdInstallE2E {

    private static final String APP = "finetune-operator";
    private static final String JOB = "gitops-install";
    private static final String CRD = "finetunejobs.finetune.dev";

    private static E2eCluster cluster;
    private static TestNamespace ns;
    private static ArgoCdServer argocd;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-argocd-install-e2e", "models", "data", "outputs");

    @BeforeAll
    static void theOperatorApplication() throws IOException {
        cluster = SCENARIO.cluster();
        ns = SCENARIO.ns();
        Path repo = cluster.settings().repo();
        ns.fillAssets(cluster.settings().trainerImage(), "");
        cluster.uninstallOperator();
        Path work = repo.resolve("e2e/target/argocd-install-e2e");
        argocd = ArgoCdServer.up(cluster, work);

        GitRepo git = GitRepo.init(work.resolve("git-" + System.currentTimeMillis()));
        git.copy(repo, "deploy/kustomize/base");
        git.copy(repo, "deploy/argocd/operator");
        String image = cluster.settings().operatorImage();
        int colon = image.lastIndexOf(':');
        git.write("install/kustomization.yaml", """
                # deploy/argocd/operator with the images under test, and a FineTuneJob in wave 1
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - ../deploy/argocd/operator
                  - finetunejob.yaml
                images:
                  - {name: finetune/operator, newName: %s, newTag: %s}
                patches:
                  - target: {kind: Deployment, name: finetune-operator, namespace: finetune-system}
                    patch: |-
                      - op: add
                        path: /spec/template/spec/containers/0/env/-
                        value: {name: FINETUNE_TRAINER_CPU_IMAGE, value: %s}
                """.formatted(image.substring(0, colon), image.substring(colon + 1), cluster.settings().trainerImage()));
        ObjectNode job = (ObjectNode) Serialization.yamlMapper()
                .readTree(Files.readString(repo.resolve("examples/quickstart/finetunejob.yaml")));
        ((ObjectNode) job.path("metadata")).put("name", JOB).put("namespace", ns.name())
                .putObject("annotations").put("argocd.argoproj.io/sync-wave", "1");
        ((ObjectNode) job.at("/spec/output/pvc")).put("path", "runs/" + JOB);
        ((ObjectNode) job.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        git.write("install/finetunejob.yaml", Serialization.yamlMapper().writeValueAsString(job));
        git.commit("the operator and a job");

        ObjectNode application = (ObjectNode) Serialization.yamlMapper()
                .readTree(Files.readString(repo.resolve("deploy/argocd/operator-application.yaml")));
        ((ObjectNode) application.at("/spec/source")).put("repoURL", git.url()).put("path", "install");
        argocd.apply(Serialization.jsonMapper().writeValueAsString(application));
    }

    @AfterAll
    static void cleanUp() {
        if (argocd != null) {
            argocd.down(APP);
        }
    }

    /**
     * When Argo CD's application-controller last wrote the object: its managedFields entry (manager
     * "argocd-controller", also for its client-side apply), null if there is none. Argo CD 3.6.2 puts no tracking
     * annotation on a CRD, so this entry is what shows it applied it.
     */
    private static Instant appliedByArgoCd(java.util.List<ManagedFieldsEntry> entries) {
        return entries.stream().filter(e -> "argocd-controller".equals(e.getManager()) && e.getSubresource() == null)
                .map(e -> Instant.parse(e.getTime())).max(Instant::compareTo).orElse(null);
    }

    @Test
    @Order(1)
    void theCrdAndTheRunningOperatorComeBeforeTheJob() {
        JsonNode job = await("Argo CD to create " + JOB).atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ns.job(JOB), j -> j != null);
        Instant jobCreated = Instant.parse(job.at("/metadata/creationTimestamp").asText());

        CustomResourceDefinition crd = cluster.client().apiextensions().v1().customResourceDefinitions().withName(CRD).get();
        Instant crdApplied = appliedByArgoCd(crd.getMetadata().getManagedFields());
        assertThat(crdApplied).as("Argo CD applied the CRD (managers: " + crd.getMetadata().getManagedFields().stream()
                .map(e -> e.getManager() + " " + e.getOperation() + " " + e.getTime()).toList() + ")").isNotNull();
        assertThat(crd.getMetadata().getAnnotations()).containsEntry("argocd.argoproj.io/sync-wave", "-1");

        Deployment operator = cluster.operatorDeployment();
        assertThat(operator.getMetadata().getAnnotations()).as("the Deployment, synced by Argo CD")
                .containsKey("argocd.argoproj.io/tracking-id");
        assertThat(operator.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage())
                .isEqualTo(cluster.settings().operatorImage());
        Instant operatorAvailable = operator.getStatus().getConditions().stream()
                .filter(c -> "Available".equals(c.getType()) && "True".equals(c.getStatus()))
                .map(c -> Instant.parse(c.getLastTransitionTime())).findFirst().orElseThrow();
        System.out.println("[e2e] Argo CD waves: CRD applied " + crdApplied + ", operator available " + operatorAvailable
                + ", " + JOB + " created " + jobCreated);
        assertThat(crdApplied).as("wave -1 (CRD) before wave 1 (the job)").isBefore(jobCreated);
        assertThat(operatorAvailable).as("wave 0 (the operator) healthy before wave 1 (the job)").isBeforeOrEqualTo(jobCreated);
    }

    @Test
    @Order(2)
    void theJobTrainsToSucceededAndTheApplicationIsHealthyAndSynced() throws Exception {
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        await("the Application Healthy").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> argocd.app(APP).at("/status/health/status").asText(), "Healthy"::equals);
        await("the Application Synced").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> argocd.app(APP).at("/status/sync/status").asText(), "Synced"::equals);
        java.util.Map<String, String> sync = new java.util.TreeMap<>();
        argocd.app(APP).at("/status/resources").forEach(r -> sync.put(r.path("kind").asText() + "/" + r.path("name").asText(),
                r.path("status").asText()));
        System.out.println("[e2e] Argo CD operator Application resources: " + sync);
        assertThat(sync).containsEntry("FineTuneJob/" + JOB, "Synced").containsEntry("Deployment/" + E2eCluster.OPERATOR, "Synced")
                .containsEntry("CustomResourceDefinition/finetunejobs.finetune.dev", "Synced");
        assertThat(sync.values()).as("every resource of the Application").containsOnly("Synced");
        String health = argocd.health(APP, "FineTuneJob", JOB);
        System.out.println("[e2e] Argo CD operator Application: " + argocd.sync(APP) + ", "
                + argocd.app(APP).at("/status/health/status").asText() + "; " + JOB + ": " + health + "; eval losses "
                + ns.evalLosses(JOB));
        assertThat(health).startsWith("Healthy | Training finished with eval loss ");
        assertThat(ns.field(JOB, "/status/attempt")).isEqualTo("1");
        assertThat(argocd.health(APP, "Deployment", E2eCluster.OPERATOR)).startsWith("Healthy");
    }
}
