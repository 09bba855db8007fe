package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Models and data in from {@code hf://}, the adapter out to a registry (issue 19's "done when"): the quickstart's
 * model and dataset are published on a Hugging Face Hub compatible server and CNCF Distribution's registry runs
 * beside it, both on this machine at the Kind network's gateway; the operator's hub endpoint points at the hub. A
 * FineTuneJob whose {@code model.source} and {@code dataset.source} are {@code hf://} and whose {@code output.push}
 * names the registry trains in the restricted, default-deny namespace: the initializer's bytes done / total show in
 * the status while it downloads, and the adapter the trainer pushed is pulled back by its digest with
 * {@code finetune pull} in a pod and equals the one on the volume.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HubSourceE2E {

    private static final String JOB = "from-hub";
    private static final String MODEL_REPO = "e2e/quickstart-llama";
    private static final String DATASET_REPO = "e2e/quickstart-data";
    private static final String MODEL_SOURCE = "hf://" + MODEL_REPO + "@main";
    private static final String DATASET_SOURCE = "hf://datasets/" + DATASET_REPO + "@main/train.jsonl";
    /** How long the hub takes to send the model: long enough for the operator to show the download under way. */
    private static final Duration MODEL_TRANSFER = Duration.ofSeconds(12);

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-hub-e2e", "models", "data", "cache", "outputs");

    private static HubServer hub;
    private static HostRegistry registry;
    private static Map<String, byte[]> modelFiles;
    private static byte[] trainJsonl;
    /** Every distinct WorkersReady message and status.downloads seen while the job ran, in order. */
    private static final Set<String> messagesSeen = new LinkedHashSet<>();
    private static final List<JsonNode> downloadsSeen = new ArrayList<>();
    private static String phase;

    @BeforeAll
    static void trainFromTheHubAndPushToTheRegistry() throws Exception {
        TestNamespace ns = SCENARIO.ns();
        E2eCluster cluster = SCENARIO.cluster();
        cluster.installOperator(); // its hub endpoint is the suite's hub
        ns.fillAssets(cluster.settings().trainerImage(), "");
        readAssets(ns, cluster.settings().trainerImage());

        hub = cluster.hub();
        hub.addModel(MODEL_REPO, "main", modelFiles);
        hub.addDataset(DATASET_REPO, "main", Map.of("train.jsonl", trainJsonl));
        int largest = modelFiles.values().stream().mapToInt(b -> b.length).max().orElseThrow();
        long pause = 200;
        hub.pace(Math.max(4096, (int) (largest / (MODEL_TRANSFER.toMillis() / pause))), pause);
        registry = HostRegistry.start(cluster.hostAddressForPods(), Files.createTempDirectory("e2e-registry"));
        System.out.println("[e2e] hub " + hub.url() + ", registry " + registry.address() + " (models: "
                + modelFiles.keySet() + ")");

        ns.createQuickstartJob(cluster.settings().repo(), JOB, job -> {
            ObjectNode spec = (ObjectNode) job.path("spec");
            spec.putObject("model").put("source", MODEL_SOURCE)
                    .putObject("pvc").put("claimName", "cache").put("path", "hub");
            ((ObjectNode) spec.path("dataset")).put("source", DATASET_SOURCE)
                    .putObject("pvc").put("claimName", "cache").put("path", "hub");
            ((ObjectNode) spec.path("training")).put("epochs", 1);
            ((ObjectNode) spec.path("resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
            ((ObjectNode) spec.path("output")).putObject("push")
                    .put("oci", registry.address() + "/e2e/quickstart-adapter:" + JOB).put("insecure", true);
        });
        phase = watchUntilTerminal(ns, Duration.ofMinutes(10));
    }

    /** The quickstart model's files and train.jsonl, as the assets Job wrote them to the claims models and data. */
    private static void readAssets(TestNamespace ns, String trainerImage) {
        ns.startVolumeReader("assets-reader", trainerImage, "models", "data");
        String modelDir = "/mnt/models/quickstart-llama";
        modelFiles = new LinkedHashMap<>();
        for (String file : ns.exec("assets-reader", "find", modelDir, "-type", "f").lines().sorted().toList()) {
            modelFiles.put(file.substring(modelDir.length() + 1), ns.readFile("assets-reader", file));
        }
        assertThat(modelFiles).as("the quickstart model's files").containsKeys("config.json");
        trainJsonl = ns.readFile("assets-reader", "/mnt/data/quickstart/train.jsonl");
        SCENARIO.client().pods().inNamespace(ns.name()).withName("assets-reader").delete();
    }

    /** Polls the job until it ends, keeping what a person watching {@code kubectl get -w} would have seen. */
    private static String watchUntilTerminal(TestNamespace ns, Duration limit) throws InterruptedException {
        Instant deadline = Instant.now().plus(limit);
        while (Instant.now().isBefore(deadline)) {
            JsonNode status = ns.job(JOB).path("status");
            for (JsonNode condition : status.path("conditions")) {
                if ("WorkersReady".equals(condition.path("type").asText())) {
                    messagesSeen.add(condition.path("reason").asText() + ": " + condition.path("message").asText());
                }
            }
            if (status.has("downloads") && (downloadsSeen.isEmpty() || !downloadsSeen.getLast().equals(status.path("downloads")))) {
                downloadsSeen.add(status.path("downloads"));
            }
            String now = status.path("phase").asText("");
            if (now.equals("Succeeded") || now.equals("Failed")) {
                return now;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(JOB + " did not end within " + limit + "; WorkersReady said: " + messagesSeen);
    }

    @AfterAll
    static void stopTheRegistryAndTheSlowLink() {
        if (registry != null) {
            registry.close();
        }
        if (hub != null) {
            hub.pace(0, 0);
        }
    }

    private static long size(Map<String, byte[]> files) {
        return files.values().stream().mapToLong(b -> b.length).sum();
    }

    @Test
    @Order(1)
    void theJobTrainedFromTheHubAndItsStatusShowedTheDownload() {
        assertThat(phase).as("phase of " + JOB + "; WorkersReady said: " + messagesSeen).isEqualTo("Succeeded");
        System.out.println("[e2e] WorkersReady while " + JOB + " ran: " + messagesSeen);
        System.out.println("[e2e] status.downloads seen: " + downloadsSeen);
        JsonNode downloads = SCENARIO.ns().job(JOB).at("/status/downloads");
        assertThat(downloads.size()).isEqualTo(2);
        assertThat(downloads.get(0).path("input").asText() + " " + downloads.get(0).path("source").asText())
                .isEqualTo("model " + MODEL_SOURCE);
        assertThat(downloads.get(0).path("bytesDone").asLong()).isEqualTo(size(modelFiles));
        assertThat(downloads.get(0).path("bytesTotal").asLong()).isEqualTo(size(modelFiles));
        assertThat(downloads.get(1).path("input").asText() + " " + downloads.get(1).path("source").asText())
                .isEqualTo("dataset " + DATASET_SOURCE);
        assertThat(downloads.get(1).path("bytesDone").asLong()).isEqualTo(trainJsonl.length);
        assertThat(downloads.get(1).path("bytesTotal").asLong()).isEqualTo(trainJsonl.length);

        assertThat(downloadsSeen).as("status.downloads with the model partly there, seen while it downloaded")
                .anySatisfy(d -> assertThat(d.get(0).path("bytesDone").asLong())
                        .isGreaterThan(0).isLessThan(d.get(0).path("bytesTotal").asLong()));
        assertThat(messagesSeen).as("the WorkersReady condition while the initializer ran")
                .anySatisfy(m -> assertThat(m).matches("Downloading: Pod " + JOB + "-attempt-1-0-[a-z0-9]+: downloading model "
                        + java.util.regex.Pattern.quote(MODEL_SOURCE) + ": .+ of .+ \\(([0-9]|[1-9][0-9])%\\)\\."));
        long nonEmpty = modelFiles.values().stream().filter(b -> b.length > 0).count() + 1; // empty files need no request
        assertThat(hub.served().stream().filter(f -> f.startsWith(MODEL_REPO + "/") || f.startsWith(DATASET_REPO + "/")))
                .as("each file fetched from the hub once").hasSize((int) nonEmpty).doesNotHaveDuplicates();
    }

    @Test
    @Order(2)
    void thePushedAdapterPulledBackByItsDigestIsTheOneOnTheVolume() {
        TestNamespace ns = SCENARIO.ns();
        String pushed = ns.field(JOB, "/status/outputs/pushedAdapter");
        assertThat(pushed).matches(java.util.regex.Pattern.quote(registry.address()) + "/e2e/quickstart-adapter@sha256:[0-9a-f]{64}");

        // the pod that pulls reaches the registry, and nothing else, through a policy of its own
        ns.apply("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: puller-to-registry}
                spec:
                  podSelector: {matchLabels: {app: puller}}
                  policyTypes: [Egress]
                  egress:
                    - ports: [{protocol: TCP, port: %d}]
                """.formatted(Integer.parseInt(registry.address().substring(registry.address().lastIndexOf(':') + 1))));
        ns.apply("""
                apiVersion: v1
                kind: Pod
                metadata: {name: puller, labels: {app: puller}}
                spec:
                  restartPolicy: Never
                  securityContext: %s
                  containers:
                    - name: puller
                      image: %s
                      imagePullPolicy: IfNotPresent
                      command: [sleep, "600"]
                      env: [{name: FINETUNE_INSECURE_REGISTRIES, value: "%s"}, {name: HOME, value: /tmp}]
                      resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: "1", memory: 768Mi}}
                      securityContext: %s
                      volumeMounts:
                        - {name: outputs, mountPath: /mnt/outputs, readOnly: true}
                        - {name: tmp, mountPath: /tmp}
                  volumes:
                    - {name: outputs, persistentVolumeClaim: {claimName: outputs, readOnly: true}}
                    - {name: tmp, emptyDir: {}}
                """.formatted(TestNamespace.RESTRICTED_POD, SCENARIO.cluster().settings().trainerImage(), registry.address(),
                TestNamespace.RESTRICTED_CONTAINER));
        ns.awaitPodReady("puller", Duration.ofMinutes(2));

        String out = ns.exec("puller", "java", "-jar", "/opt/finetune/finetune-trainer.jar", "pull", pushed, "--out", "/tmp/pulled");
        System.out.println("[e2e] finetune pull " + pushed + ": " + out.strip());

        byte[] pulled = ns.readFile("puller", "/tmp/pulled/adapter_model.safetensors");
        byte[] onVolume = ns.readFile("puller", "/mnt/outputs/runs/" + JOB + "/adapter/adapter_model.safetensors");
        assertThat(pulled).as("the pulled adapter's weights equal the ones on the output volume").isEqualTo(onVolume);
        JsonNode adapterConfig = Serialization.unmarshal(ns.readText("puller", "/tmp/pulled/adapter_config.json"), JsonNode.class);
        JsonNode model = Serialization.unmarshal(new String(modelFiles.get("config.json"), java.nio.charset.StandardCharsets.UTF_8),
                JsonNode.class);
        Adapter.assertLoraShapes(adapterConfig, model, pulled);
    }
}
