package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static dev.finetune.trainer.cli.CliHarness.job;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune run job.yaml --volume ...} end to end on the quickstart's synthetic model (word-level
 * tokenizer, chat template), then inspect / merge / generate, and the exit codes of bad inputs.
 * {@link FinetuneCliIT} runs the same with the real Qwen3 tokenizer.
 */
class FinetuneCliTest {

    @TempDir
    static Path tmp;

    static Path models;
    static Path data;
    static Path outputs;

    @BeforeAll
    static void setUp() throws Exception {
        CliVolumes volumes = CliVolumes.write(tmp, 40);
        models = volumes.models();
        data = volumes.data();
        outputs = tmp.resolve("outputs");
    }

    @Test
    void runWritesAdapterCheckpointsReportManifestAndProgress() throws Exception {
        Path run = CliHarness.runAndCheckOutputs(tmp, models, data, outputs);
        Path yaml = tmp.resolve("job.yaml");
        Outcome gen = cli("generate", "--model", models.resolve("tiny-qwen3").toString(), "--adapter",
                run.resolve("adapter").toString(), "--prompt", "Continue the sequence . 3 4 5", "--chat",
                "--max-new-tokens", "3");
        assertThat(gen.code()).as(gen.err()).isEqualTo(0);
        // three word-level tokens of the synthetic vocabulary came back
        assertThat(gen.out().strip().split("\\s+")).hasSizeBetween(1, 3);
        Outcome sampled = cli("generate", "--model", models.resolve("tiny-qwen3").toString(), "--prompt",
                "<|user|> 1 2 3 </s> <|assistant|>", "--temperature", "0.8", "--top-k", "5", "--top-p", "0.9",
                "--seed", "3", "--max-new-tokens", "4", "--precision", "bf16");
        assertThat(sampled.code()).as(sampled.err()).isEqualTo(0);
        Outcome merged = cli("merge", "--model", models.resolve("tiny-qwen3").toString(), "--adapter",
                run.resolve("adapter").toString(), "--out", tmp.resolve("merged-cli").toString());
        assertThat(merged.code()).as(merged.err()).isEqualTo(0);
        Outcome inspectMerged = cli("inspect", tmp.resolve("merged-cli").toString());
        assertThat(inspectMerged.out()).contains("model ").contains("parameters");

        // a second run of the finished job: reported as finished, nothing trained
        Outcome again = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(again.code()).as(again.out() + again.err()).isEqualTo(0);
        assertThat(again.out()).contains("already finished").doesNotContain("resumed from");

        // a different LoRA rank cannot continue that run's checkpoint: a clear BAD_CONFIG, not a crash
        Path changed = tmp.resolve("job-r8.yaml");
        Files.writeString(changed, job(2, "").replace("rank: 4", "rank: 8"));
        Outcome mismatch = cli("run", changed.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(mismatch.code()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(mismatch.err()).contains("cannot resume from").contains("--resume none");
    }

    @Test
    void badInputsExitWithTheirReasonCodes() throws Exception {
        Path yaml = tmp.resolve("bad.yaml");
        Files.writeString(yaml, job(1, "").replace("rank: 4", "rank: 0"));
        Outcome invalid = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(invalid.code()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(invalid.err().toLowerCase(Locale.ROOT)).contains("spec.lora.rank");

        Files.writeString(yaml, job(1, ""));
        Outcome dry = cli("run", "--dry-run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + tmp.resolve("dry"));
        assertThat(dry.code()).as(dry.err()).isEqualTo(0);
        assertThat(dry.out()).contains("model: ").contains("Dataset ").contains("records          40 read")
                .contains("ok: ").contains("(writable); nothing was trained (--dry-run)");
        assertThat(tmp.resolve("dry")).doesNotExist();
        Outcome missingVolume = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data);
        assertThat(missingVolume.code()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(missingVolume.err()).contains("outputs").contains("--volume");

        Path badData = tmp.resolve("baddata");
        Files.createDirectories(badData);
        Files.writeString(badData.resolve("train.jsonl"), "{\"instruction\": \"x\", \"output\": \n");
        Outcome corrupt = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + badData,
                "--volume", "outputs=" + tmp.resolve("out-bad"));
        assertThat(corrupt.code()).as(corrupt.out() + corrupt.err()).isEqualTo(FailureReason.BAD_DATA.exitCode());
        assertThat(corrupt.err()).contains("train.jsonl");
        JsonNode progress = new ObjectMapper().readTree(tmp.resolve("out-bad/runs/cli-test/progress.json").toFile());
        assertThat(progress.path("state").asText()).isEqualTo("FAILED");
        assertThat(progress.path("failure").path("reason").asText()).isEqualTo("BAD_DATA");
        String message = progress.path("failure").path("message").asText();
        assertThat(message).contains("train.jsonl:1:").contains("malformed JSON");
        assertThat(message.split("fix the JSON syntax", -1)).as("the hint once: " + message).hasSize(2);
        Outcome inspectFailed = cli("inspect", tmp.resolve("out-bad/runs/cli-test").toString());
        assertThat(inspectFailed.out()).contains("ended: failed: BAD_DATA (exit 65): ").contains("train.jsonl:1:");

        Path emptyModels = tmp.resolve("nomodel");
        Files.createDirectories(emptyModels.resolve("tiny-qwen3"));
        Outcome noModel = cli("run", yaml.toString(), "--volume", "models=" + emptyModels, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(noModel.code()).isEqualTo(FailureReason.BAD_MODEL.exitCode());
        assertThat(noModel.err()).contains("config.json");
    }

    @Test
    void runsATrainerConfigFileLikeAWorkerPod() throws Exception {
        Path yaml = tmp.resolve("job-config.yaml");
        Files.writeString(yaml, job(1, "    maxSteps: 3").replace("runs/cli-test", "runs/from-config").replace("merge: true", "merge: false"));
        dev.finetune.api.v1alpha1.FineTuneJob job = dev.finetune.api.trainer.TrainerJson.readJob(yaml);
        java.util.Map<String, Path> roots = java.util.Map.of("models", models, "data", data, "outputs", outputs);
        dev.finetune.api.trainer.TrainerConfig config = dev.finetune.api.trainer.TrainerConfigs.forLocalRun(job,
                roots::get, null);
        Path configFile = tmp.resolve("trainer-config.json");
        Files.writeString(configFile, dev.finetune.api.trainer.TrainerJson.write(config));
        Outcome o = cli("run", "--config", configFile.toString());
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(0);
        Path run = outputs.resolve("runs/from-config");
        JsonNode progress = new ObjectMapper().readTree(run.resolve("progress.json").toFile());
        assertThat(progress.path("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(progress.path("progress").path("step").asLong()).isEqualTo(3);
        assertThat(progress.path("progress").path("totalSteps").asLong()).isEqualTo(3);
        assertThat(run.resolve("adapter/adapter_config.json")).exists();
    }

    @Test
    void dpoTrainsOnPreferencePairsAndReportsRewardMetrics() throws Exception {
        Path prefData = tmp.resolve("prefdata");
        Files.createDirectories(prefData);
        StringBuilder records = new StringBuilder();
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 40; i++) {
            int a = r.nextInt(20);
            records.append("{\"prompt\": \"Continue the sequence . ").append(a).append(' ').append(a + 1).append(' ')
                    .append(a + 2).append("\", \"chosen\": \"").append(a + 3).append(' ').append(a + 4)
                    .append("\", \"rejected\": \"").append(a).append(' ').append(a).append("\"}\n");
        }
        Files.writeString(prefData.resolve("train.jsonl"), records);
        Path yaml = tmp.resolve("dpo.yaml");
        Files.writeString(yaml, job(2, "    method: dpo\n    dpo: {beta: 0.5}").replace("format: alpaca", "format: preference"));
        Path out = tmp.resolve("dpo-out");
        Outcome run = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + prefData,
                "--volume", "outputs=" + out);
        assertThat(run.code()).as(run.out() + run.err()).isEqualTo(0);
        assertThat(run.out()).contains("rewards at step").containsPattern("loss [0-9.]+ \\| .* \\| reward acc [01]\\.[0-9]{3} margin");
        JsonNode progress = new ObjectMapper()
                .readTree(out.resolve("runs/cli-test/progress.json").toFile()).path("progress");
        assertThat(progress.path("rewardAccuracy").isNumber()).as(progress.toString()).isTrue();
        assertThat(progress.path("perplexity").isNumber()).as("no perplexity for DPO").isFalse();
        // a fresh adapter starts at loss ln 2 and accuracy 0 (every margin 0); two epochs learn the preference
        // (measured: eval loss 0.427, reward accuracy 0.875, margin 0.81)
        assertThat(progress.path("evalLoss").asDouble()).isLessThan(0.6);
        assertThat(progress.path("rewardAccuracy").asDouble()).isGreaterThanOrEqualTo(0.75);
        assertThat(progress.path("rewardMargin").asDouble()).isPositive();

        Path orpoYaml = tmp.resolve("orpo.yaml");
        Files.writeString(orpoYaml, job(1, "    method: orpo").replace("format: alpaca", "format: preference"));
        Outcome orpo = cli("run", orpoYaml.toString(), "--volume", "models=" + models, "--volume", "data=" + prefData,
                "--volume", "outputs=" + tmp.resolve("orpo-out"));
        assertThat(orpo.code()).as(orpo.out() + orpo.err()).isEqualTo(0);
        JsonNode orpoProgress = new ObjectMapper()
                .readTree(tmp.resolve("orpo-out/runs/cli-test/progress.json").toFile()).path("progress");
        assertThat(orpoProgress.path("rewardAccuracy").isNumber()).as(orpoProgress.toString()).isTrue();
        assertThat(orpoProgress.path("evalLoss").asDouble()).isFinite().isPositive();
    }
}
