package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A FineTuneJob deployed by a live Argo CD v3.6.2 (e2e/argocd/argocd.sh: application-controller, repo-server and
 * API server as host processes, our check in argocd-cm) from a file:// git repository the test creates: health
 * Progressing with the epoch and eval loss while it trains, Suspended and back through our resource actions run by
 * the API server, Healthy on Succeeded, Synced all along; a commit that edits an immutable field fails to sync with
 * our CEL message and leaves the job as it was; a job with bad data is Degraded with the reason.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArgoCdE2E {

    private static final String APP = "ft-argocd-e2e";
    private static final String JOB = "gitops";
    private static final String BAD = "gitops-bad-data";
    /** Long enough (a few seconds an epoch) to watch it train and to suspend it on the way. */
    private static final int EPOCHS = 30;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static E2eCluster cluster;
    private static TestNamespace ns;
    private static Path repo;
    private static Path git;
    private static Path kubeconfig;
    private static String server;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-argocd-e2e", "models", "data", "outputs");

    @BeforeAll
    static void argoCdAndAnApplication() throws IOException {
        cluster = SCENARIO.cluster();
        ns = SCENARIO.ns();
        repo = cluster.settings().repo();
        cluster.installOperator();
        // the quickstart assets, plus bad/train.jsonl: line 21 of the dataset cut short
        ns.fillAssets(cluster.settings().trainerImage(), """
                mkdir -p /mnt/data/bad
                { head -n 20 /mnt/data/quickstart/train.jsonl
                  echo '{"instruction": "Continue the sequence", "input": "3 4 5",'
                  tail -n +21 /mnt/data/quickstart/train.jsonl; } > /mnt/data/bad/train.jsonl
                """);
        Path work = repo.resolve("e2e/target/argocd-e2e");
        kubeconfig = cluster.kubeconfigFile(work.resolve("kubeconfig"));
        String up = argocdSh("up");
        server = up.lines().filter(l -> l.startsWith("ARGOCD_SERVER=")).map(l -> l.substring("ARGOCD_SERVER=".length()))
                .findFirst().orElseThrow(() -> new IllegalStateException("argocd.sh up printed no ARGOCD_SERVER=:\n" + up));

        git = work.resolve("git-" + System.currentTimeMillis());
        Files.createDirectories(git.resolve("jobs"));
        git("init", "-q", "-b", "main");
        writeJob(JOB, j -> ((ObjectNode) j.at("/spec/training")).put("epochs", EPOCHS));
        writeJob(BAD, j -> ((ObjectNode) j.at("/spec/dataset/pvc")).put("path", "bad/train.jsonl"));
        commit("two quickstart jobs");

        cluster.client().resource(Serialization.unmarshal("""
                apiVersion: argoproj.io/v1alpha1
                kind: Application
                metadata: {name: %s, namespace: argocd}
                spec:
                  project: default
                  source: {repoURL: 'file://%s', targetRevision: main, path: jobs}
                  destination: {server: 'https://kubernetes.default.svc', namespace: %s}
                  syncPolicy: {automated: {}}
                """.formatted(APP, git, ns.name()), GenericKubernetesResource.class)).serverSideApply();
    }

    @AfterAll
    static void cleanUp() {
        if (cluster != null) {
            cluster.client().genericKubernetesResources("argoproj.io/v1alpha1", "Application").inNamespace("argocd")
                    .withName(APP).delete();
            try {
                argocdSh("down");
            } catch (RuntimeException e) {
                System.out.println("[e2e] argocd.sh down: " + e.getMessage());
            }
        }
    }

    private static String argocdSh(String command) {
        return Processes.run(repo, Duration.ofMinutes(30),
                List.of("env", "KUBECONFIG=" + kubeconfig, "bash", "e2e/argocd/argocd.sh", command));
    }

    private static String git(String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-c", "user.name=finetune-e2e", "-c",
                "user.email=e2e@finetune.invalid", "-c", "commit.gpgsign=false"));
        command.addAll(List.of(args));
        return Processes.run(git, Duration.ofMinutes(1), command);
    }

    private static void commit(String message) {
        git("add", "-A");
        git("commit", "-q", "-m", message);
    }

    /** The quickstart job as a git manifest: no namespace (the Application's destination) and no spec.suspend. */
    private static void writeJob(String name, java.util.function.Consumer<ObjectNode> changes) throws IOException {
        ObjectNode manifest = (ObjectNode) Serialization.yamlMapper()
                .readTree(Files.readString(repo.resolve("examples/quickstart/finetunejob.yaml")));
        ((ObjectNode) manifest.path("metadata")).put("name", name);
        ((ObjectNode) manifest.at("/spec/output/pvc")).put("path", "runs/" + name);
        ((ObjectNode) manifest.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        changes.accept(manifest);
        Files.writeString(git.resolve("jobs/" + name + ".yaml"), Serialization.yamlMapper().writeValueAsString(manifest));
    }

    private static JsonNode app() {
        GenericKubernetesResource app = cluster.client().genericKubernetesResources("argoproj.io/v1alpha1", "Application")
                .inNamespace("argocd").withName(APP).get();
        return app == null ? JSON.nullNode() : Serialization.jsonMapper().valueToTree(app);
    }

    /**
     * "STATUS | message" of the job in the Application's resource tree (GET /api/v1/applications/{app}/resource-tree,
     * what the UI shows; Argo CD 3 keeps resource health there, not in the Application's status).
     */
    private static String health(String job) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server + "/api/v1/applications/" + APP + "/resource-tree?appNamespace=argocd"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return "(resource tree: HTTP " + response.statusCode() + " " + response.body() + ")";
        }
        for (JsonNode node : JSON.readTree(response.body()).path("nodes")) {
            if ("FineTuneJob".equals(node.path("kind").asText()) && job.equals(node.path("name").asText())) {
                return node.at("/health/status").asText() + " | " + node.at("/health/message").asText();
            }
        }
        return "(not in the Application's resource tree)";
    }

    private static String sync() {
        return app().at("/status/sync/status").asText();
    }

    private static String awaitHealth(String job, String regex, Duration limit) {
        return await(job + "'s health in Argo CD to match /" + regex + "/").atMost(limit)
                .pollInterval(Duration.ofSeconds(1)).until(() -> health(job), h -> h.matches(regex));
    }

    /** POST /api/v1/applications/{app}/resource/actions/v2, what 'argocd app actions run' and the UI send. */
    private static void runAction(String job, String action) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("name", APP).put("appNamespace", "argocd")
                .put("namespace", ns.name()).put("resourceName", job).put("group", "finetune.dev")
                .put("version", "v1alpha1").put("kind", "FineTuneJob").put("action", action);
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server + "/api/v1/applications/" + APP + "/resource/actions/v2"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("action " + action + ": " + response.body()).isEqualTo(200);
    }

    private static List<String> availableActions(String job) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server
                        + "/api/v1/applications/" + APP + "/resource/actions?appNamespace=argocd&namespace=" + ns.name()
                        + "&resourceName=" + job + "&group=finetune.dev&version=v1alpha1&kind=FineTuneJob"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("list actions: " + response.body()).isEqualTo(200);
        List<String> names = new ArrayList<>();
        JSON.readTree(response.body()).path("actions").forEach(a -> names.add(a.path("name").asText()));
        return names;
    }

    @Test
    @Order(1)
    void syncsTheJobsAndShowsTrainingProgressWhileStayingSynced() {
        await("the Application synced").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ns.job(JOB) != null && ns.job(BAD) != null);
        String training = awaitHealth(JOB, "Progressing \\| Training: epoch \\d+/" + EPOCHS + ", step \\d+/\\d+, eval loss [0-9.]+.*",
                Duration.ofMinutes(8));
        System.out.println("[e2e] Argo CD while training: " + training + ", sync " + sync());
        assertThat(sync()).as("sync status while training (CRD defaults and status must not show as a diff)")
                .isEqualTo("Synced");
    }

    @Test
    @Order(3)
    void aJobWithBadDataIsDegradedWithTheReason() {
        String degraded = awaitHealth(BAD, "Degraded \\| .*bad/train.jsonl:21:.*", Duration.ofMinutes(6));
        System.out.println("[e2e] Argo CD on bad data: " + degraded);
    }

    @Test
    @Order(2)
    void suspendAndResumeRunThroughArgoCdAndTakeEffect() throws Exception {
        assertThat(availableActions(JOB)).containsExactly("suspend");
        runAction(JOB, "suspend");
        ns.awaitField(JOB, "/status/phase", "Suspended", Duration.ofMinutes(2));
        String suspended = awaitHealth(JOB, "Suspended \\| spec.suspend is true.*", Duration.ofMinutes(1));
        System.out.println("[e2e] Argo CD after the suspend action: " + suspended + ", sync " + sync());
        assertThat(sync()).as("git does not set spec.suspend, so a suspended job is still in sync").isEqualTo("Synced");
        assertThat(availableActions(JOB)).containsExactly("resume");
        runAction(JOB, "resume");
        assertThat(ns.field(JOB, "/spec/suspend")).isEqualTo("false");
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        String healthy = awaitHealth(JOB, "Healthy \\| Training finished with eval loss .*", Duration.ofMinutes(1));
        System.out.println("[e2e] Argo CD after success: " + healthy + ", sync " + sync() + ", attempt "
                + ns.field(JOB, "/status/attempt"));
        assertThat(ns.field(JOB, "/status/attempt")).as("the resume started attempt 2").isEqualTo("2");
        assertThat(sync()).isEqualTo("Synced");
    }

    @Test
    @Order(4)
    void aCommitEditingAnImmutableFieldFailsToSyncWithTheCelMessage() throws IOException {
        String uid = ns.job(JOB).at("/metadata/uid").asText();
        writeJob(JOB, j -> ((ObjectNode) j.at("/spec/training")).put("epochs", EPOCHS + 1));
        writeJob(BAD, j -> ((ObjectNode) j.at("/spec/dataset/pvc")).put("path", "bad/train.jsonl"));
        commit("five epochs");
        String message = await("the sync of the edit to fail").atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> app().at("/status/operationState").toString(),
                        s -> s.contains("spec.training is immutable: a FineTuneJob is one training run"));
        System.out.println("[e2e] Argo CD sync of the immutable edit: " + app().at("/status/operationState/phase").asText()
                + ": " + app().at("/status/operationState/message").asText());
        assertThat(app().at("/status/operationState/phase").asText()).isIn("Failed", "Error", "Running");
        assertThat(message).isNotEmpty();
        assertThat(sync()).isEqualTo("OutOfSync");
        assertThat(ns.job(JOB).at("/metadata/uid").asText()).as("the same job").isEqualTo(uid);
        assertThat(ns.field(JOB, "/spec/training/epochs")).as("the job untouched").isEqualTo(String.valueOf(EPOCHS));
        assertThat(ns.field(JOB, "/status/phase")).isEqualTo("Succeeded");
    }
}
