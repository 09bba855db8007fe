package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The happy path of e2e/trainer/suite.sh: examples/quickstart/finetunejob.yaml, reconciled by the operator image and
 * trained by the real CPU trainer image in a restricted, default-deny namespace, asserted on what a user reads:
 * status and history, the printer columns, rank 0's report in {@code <job>-progress}, conditions, Events, and the
 * adapter, manifest and report on the output volume (read through a pod that mounts it).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuickstartE2E {

    private static final String JOB = "quickstart";
    private static final int EPOCHS = 4;

    private static String trainerImage;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-quickstart-e2e", "models", "data", "outputs");

    @BeforeAll
    static void trainTheQuickstart() {
        TestNamespace ns = SCENARIO.ns();
        trainerImage = SCENARIO.cluster().settings().trainerImage();
        SCENARIO.cluster().installOperator();
        ns.fillAssets(trainerImage, "");
        // sized for a small node shared with other pods; one libtorch thread per CPU of the limit
        ns.createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB,
                job -> ((ObjectNode) job.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi"));
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).as("phase of " + JOB).isEqualTo("Succeeded");
    }

    private static List<JsonNode> evaluatedHistory(JsonNode status) {
        List<JsonNode> rows = new ArrayList<>();
        status.path("history").forEach(r -> {
            if (r.hasNonNull("evalLoss")) {
                rows.add(r);
            }
        });
        return rows;
    }

    /** Equal up to 2 ulps: Java's Math.exp and the trainer's may round the last bit differently. */
    private static void assertExpOf(double perplexity, double evalLoss, String what) {
        double exp = Math.exp(evalLoss);
        assertThat(perplexity).as(what + ": perplexity = exp(eval loss " + evalLoss + ")")
                .isCloseTo(exp, within(2 * Math.ulp(Math.max(exp, perplexity))));
    }

    @Test
    @Order(1)
    void evalLossFallsEveryEpochAndPerplexityIsExpOfIt() {
        JsonNode status = SCENARIO.ns().job(JOB).path("status");
        List<JsonNode> rows = evaluatedHistory(status);
        assertThat(rows.stream().map(r -> r.path("epoch").asInt()).toList()).as("history epochs")
                .containsExactly(1, 2, 3, 4);
        List<Double> losses = rows.stream().map(r -> r.path("evalLoss").asDouble()).toList();
        for (int i = 1; i < losses.size(); i++) {
            assertThat(losses.get(i)).as("eval loss of epoch " + (i + 1) + " below epoch " + i + "'s; all: " + losses)
                    .isLessThan(losses.get(i - 1));
        }
        rows.forEach(r -> assertExpOf(r.path("perplexity").asDouble(), r.path("evalLoss").asDouble(),
                "epoch " + r.path("epoch").asInt()));
        JsonNode progress = status.path("progress");
        assertThat(progress.path("evalLoss").asDouble()).as("progress.evalLoss = last history entry")
                .isEqualTo(losses.getLast());
        assertExpOf(progress.path("perplexity").asDouble(), progress.path("evalLoss").asDouble(), "progress");
        assertThat(progress.path("epoch").asInt() + "/" + progress.path("totalEpochs").asInt()).isEqualTo(EPOCHS + "/" + EPOCHS);
    }

    @Test
    @Order(2)
    void kubectlGetShowsTheFinalState() {
        JsonNode status = SCENARIO.ns().job(JOB).path("status");
        JsonNode progress = status.path("progress");
        Map<String, String> columns = PrinterColumns.of(SCENARIO.client(), SCENARIO.ns().name(), JOB);
        System.out.println("[e2e] kubectl get finetunejob " + JOB + ": " + columns);
        assertThat(columns).containsEntry("PHASE", "Succeeded").containsEntry("GPUS", "cpu")
                .containsEntry("EPOCH", EPOCHS + "/" + EPOCHS);
        for (var column : Map.of("EVAL-LOSS", progress.path("evalLoss").asDouble(),
                "PPL", progress.path("perplexity").asDouble()).entrySet()) {
            double exact = column.getValue();
            assertThat(Double.parseDouble(columns.get(column.getKey())))
                    .as(column.getKey() + " column shows " + exact + " to 4 significant digits")
                    .isCloseTo(exact, within(5e-4 * Math.abs(exact)));
        }
    }

    /** The operator's client is Fabric8; the trainer patches with java.net.http ("Java-http-client"). */
    @Test
    @Order(3)
    void theProgressConfigMapHoldsRankZerosFinalReportWrittenByTheTrainer() {
        JsonNode status = SCENARIO.ns().job(JOB).path("status");
        ConfigMap cm = SCENARIO.client().configMaps().inNamespace(SCENARIO.ns().name()).withName(JOB + "-progress").get();
        JsonNode report = Serialization.unmarshal(cm.getData().get("progress.json"), JsonNode.class);
        assertThat(report.path("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(report.path("attempt").asInt()).isEqualTo(status.path("attempt").asInt());
        assertThat(report.at("/progress/evalLoss").asDouble()).isEqualTo(status.at("/progress/evalLoss").asDouble());
        List<String> writers = new ArrayList<>();
        for (ManagedFieldsEntry entry : cm.getMetadata().getManagedFields()) {
            JsonNode fields = Serialization.jsonMapper().valueToTree(entry.getFieldsV1());
            if (fields.path("f:data").has("f:progress.json")) {
                writers.add(entry.getManager());
            }
        }
        assertThat(writers).as("managers of data.progress.json").containsExactly("Java-http-client");
    }

    @Test
    @Order(4)
    void conditionsSayItSucceededInOneAttempt() {
        TestNamespace ns = SCENARIO.ns();
        assertThat(ns.condition(JOB, "Succeeded")).isEqualTo("True Succeeded");
        assertThat(ns.condition(JOB, "Ready")).isEqualTo("True Succeeded");
        assertThat(ns.condition(JOB, "Stalled")).isEqualTo("False Succeeded");
        assertThat(ns.condition(JOB, "Failed")).isEqualTo("False NoFailure");
        assertThat(ns.condition(JOB, "Checkpointed")).isEqualTo("True CheckpointSaved");
        JsonNode status = ns.job(JOB).path("status");
        assertThat(status.path("attempt").asInt() + " " + status.path("restarts").asInt()).as("attempt restarts")
                .isEqualTo("1 0");
    }

    @Test
    @Order(5)
    void eventsTellTheStory() {
        List<String> reasons = SCENARIO.ns().events(JOB).stream().map(Event::getReason).toList();
        assertThat(reasons).contains("WorkersStarted", "Evaluated", "CheckpointSaved", "Succeeded");
        assertThat(reasons.stream().filter("Evaluated"::equals).count()).as("one Evaluated event per epoch")
                .isEqualTo(EPOCHS);
    }

    @Test
    @Order(6)
    void theOutputVolumeHoldsTheAdapterManifestAndReport() {
        TestNamespace ns = SCENARIO.ns();
        ns.startVolumeReader("reader", trainerImage, "outputs", "models");
        String run = "/mnt/outputs/runs/quickstart";
        JsonNode adapterConfig = Serialization.unmarshal(ns.readText("reader", run + "/adapter/adapter_config.json"), JsonNode.class);
        JsonNode model = Serialization.unmarshal(ns.readText("reader", "/mnt/models/quickstart-llama/config.json"), JsonNode.class);
        Adapter.assertLoraShapes(adapterConfig, model, ns.readFile("reader", run + "/adapter/adapter_model.safetensors"));

        double finalLoss = ns.job(JOB).at("/status/progress/evalLoss").asDouble();
        String manifest = ns.readText("reader", run + "/manifest.json");
        assertThat(manifest).as("manifest.json holds the final eval loss").contains(Double.toString(finalLoss));
        assertThat(ns.readText("reader", run + "/report.html")).as("report.html has a loss curve").contains("<svg");
        assertThat(ns.exec("reader", "ls", run + "/checkpoints").lines().toList())
                .as("the newest 2 checkpoints are kept (keepCheckpoints: 2)")
                .containsExactly("checkpoint-135", "checkpoint-180");
    }
}
