package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A live Argo CD v3.6.2 on the e2e cluster (e2e/argocd/argocd.sh: application-controller, repo-server and API server
 * as host processes, our check in argocd-cm) and what the scenarios ask of it: Applications, their sync status, a
 * resource's health in the resource tree, and resource actions run by the API server, as the CLI and the UI do.
 * Ports and state directory: argocd.sh's ARGOCD_* environment variables, inherited from the build.
 */
final class ArgoCdServer {

    static final String NAMESPACE = "argocd";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final E2eCluster cluster;
    private final Path kubeconfig;
    private final String server;

    private ArgoCdServer(E2eCluster cluster, Path kubeconfig, String server) {
        this.cluster = cluster;
        this.kubeconfig = kubeconfig;
        this.server = server;
    }

    /** argocd.sh up against the cluster; {@code work} holds the kubeconfig Argo CD reads. */
    static ArgoCdServer up(E2eCluster cluster, Path work) {
        Path kubeconfig = cluster.kubeconfigFile(work.resolve("kubeconfig"));
        String up = argocdSh(cluster, kubeconfig, "up");
        String server = up.lines().filter(l -> l.startsWith("ARGOCD_SERVER=")).map(l -> l.substring("ARGOCD_SERVER=".length()))
                .findFirst().orElseThrow(() -> new IllegalStateException("argocd.sh up printed no ARGOCD_SERVER=:\n" + up));
        return new ArgoCdServer(cluster, kubeconfig, server);
    }

    /** Deletes the Applications named, then argocd.sh down (processes stopped, namespace argocd deleted). */
    void down(String... applications) {
        for (String application : applications) {
            cluster.client().genericKubernetesResources("argoproj.io/v1alpha1", "Application").inNamespace(NAMESPACE)
                    .withName(application).delete();
        }
        try {
            argocdSh(cluster, kubeconfig, "down");
        } catch (RuntimeException e) {
            System.out.println("[e2e] argocd.sh down: " + e.getMessage());
        }
    }

    private static String argocdSh(E2eCluster cluster, Path kubeconfig, String command) {
        return Processes.run(cluster.settings().repo(), Duration.ofMinutes(30),
                List.of("env", "KUBECONFIG=" + kubeconfig, "bash", "e2e/argocd/argocd.sh", command));
    }

    /** Creates or updates an Application (YAML or JSON) in namespace argocd. */
    void apply(String application) {
        GenericKubernetesResource resource = Serialization.unmarshal(application, GenericKubernetesResource.class);
        cluster.client().resource(resource).inNamespace(NAMESPACE).fieldManager("finetune-e2e").serverSideApply();
    }

    /** The Application as JSON; a null node while it does not exist. */
    JsonNode app(String name) {
        GenericKubernetesResource app = cluster.client().genericKubernetesResources("argoproj.io/v1alpha1", "Application")
                .inNamespace(NAMESPACE).withName(name).get();
        return app == null ? JSON.nullNode() : Serialization.jsonMapper().valueToTree(app);
    }

    String sync(String app) {
        return app(app).at("/status/sync/status").asText();
    }

    /**
     * "STATUS | message" of a resource in the Application's resource tree (GET /api/v1/applications/{app}/resource-tree,
     * what the UI shows; Argo CD 3 keeps resource health there, not in the Application's status).
     */
    String health(String app, String kind, String name) throws Exception {
        HttpResponse<String> response = get("/api/v1/applications/" + app + "/resource-tree?appNamespace=" + NAMESPACE);
        if (response.statusCode() != 200) {
            return "(resource tree: HTTP " + response.statusCode() + " " + response.body() + ")";
        }
        for (JsonNode node : JSON.readTree(response.body()).path("nodes")) {
            if (kind.equals(node.path("kind").asText()) && name.equals(node.path("name").asText())) {
                return node.at("/health/status").asText() + " | " + node.at("/health/message").asText();
            }
        }
        return "(not in the Application's resource tree)";
    }

    String awaitHealth(String app, String kind, String name, String regex, Duration limit) {
        return await(kind + " " + name + "'s health in Argo CD to match /" + regex + "/").atMost(limit)
                .pollInterval(Duration.ofSeconds(1)).until(() -> health(app, kind, name), h -> h.matches(regex));
    }

    /** POST /api/v1/applications/{app}/resource/actions/v2, what 'argocd app actions run' and the UI send. */
    void runAction(String app, String namespace, String job, String action) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("name", app).put("appNamespace", NAMESPACE)
                .put("namespace", namespace).put("resourceName", job).put("group", "finetune.dev")
                .put("version", "v1alpha1").put("kind", "FineTuneJob").put("action", action);
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server + "/api/v1/applications/" + app + "/resource/actions/v2"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("action " + action + ": " + response.body()).isEqualTo(200);
    }

    /** The FineTuneJob's actions as "name" or, when disabled, "name (disabled)". */
    List<String> availableActions(String app, String namespace, String job) throws Exception {
        HttpResponse<String> response = get("/api/v1/applications/" + app + "/resource/actions?appNamespace=" + NAMESPACE
                + "&namespace=" + namespace + "&resourceName=" + job + "&group=finetune.dev&version=v1alpha1&kind=FineTuneJob");
        assertThat(response.statusCode()).as("list actions: " + response.body()).isEqualTo(200);
        List<String> names = new ArrayList<>();
        JSON.readTree(response.body()).path("actions").forEach(a -> names.add(a.path("name").asText()
                + (a.path("disabled").asBoolean(false) ? " (disabled)" : "")));
        return names;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server + path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
