package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Preference training through the operator: examples/dpo-summary.yaml (DPO, sigmoid loss, on the quickstart
 * model and the example's 160 prompt/chosen/rejected pairs) succeeds, and what a user reads carries the
 * method's metrics: status.progress with reward accuracy and margin, the REWARD-ACC column of
 * {@code kubectl get ftj -o wide}, EVAL-LOSS the DPO eval loss, and no PPL (it means nothing for DPO).
 */
@ExtendWith(E2eExtension.class)
class DpoE2E {

    private static final String JOB = "dpo-summary";

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void runTheJob(E2eCluster shared) throws IOException {
        cluster = shared;
        cluster.installOperator();
        ns = TestNamespace.create(shared.client(), "ft-dpo-e2e");
        ns.claims("models", "data", "outputs");
        Path repo = shared.settings().repo();
        String pairs = Files.readString(repo.resolve("examples/dpo-summary/train.jsonl"));
        ns.fillAssets(shared.settings().trainerImage(), "mkdir -p /mnt/data/dpo\ncat > /mnt/data/dpo/train.jsonl <<'PAIRS'\n"
                + pairs + "PAIRS\n");
        ObjectNode job = (ObjectNode) Serialization.yamlMapper().readTree(Files.readString(repo.resolve("examples/dpo-summary.yaml")));
        ((ObjectNode) job.path("metadata")).put("namespace", ns.name());
        ((ObjectNode) job.at("/spec/dataset/pvc")).put("path", "dpo/train.jsonl");
        ((ObjectNode) job.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        try {
            ns.apply(Serialization.yamlMapper().writeValueAsString(job));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    @Test
    void succeedsWithRewardMetricsInStatusAndColumns() {
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(8))).isEqualTo("Succeeded");
        JsonNode progress = ns.job(JOB).path("status").path("progress");
        System.out.println("[e2e] dpo-summary progress: " + progress);
        double evalLoss = progress.path("evalLoss").asDouble();
        // a fresh adapter starts at ln 2 (the policy equals the reference); the example learns its pairs
        assertThat(evalLoss).as("DPO eval loss below ln 2").isPositive().isLessThan(Math.log(2) - 0.1);
        assertThat(progress.path("rewardAccuracy").asDouble()).as("reward accuracy on the eval pairs").isGreaterThanOrEqualTo(0.75);
        assertThat(progress.path("rewardMargin").asDouble()).as("reward margin").isPositive();

        Map<String, String> columns = PrinterColumns.of(cluster.client(), ns.name(), JOB);
        System.out.println("[e2e] kubectl get finetunejob " + JOB + " -o wide: " + columns);
        assertThat(columns).containsEntry("PHASE", "Succeeded");
        assertThat(Double.parseDouble(columns.get("EVAL-LOSS"))).isCloseTo(evalLoss, within(5e-4 * evalLoss));
        assertThat(Double.parseDouble(columns.get("REWARD-ACC")))
                .isCloseTo(progress.path("rewardAccuracy").asDouble(), within(5e-3));
        assertThat(columns.get("PPL")).as("no perplexity for a preference job").isEmpty();
    }
}
