package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static dev.finetune.trainer.cli.CliHarness.job;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Command-line mistakes end in exit 64 naming the option, and checks that need no weights. */
class CliRobustnessTest {

    @TempDir
    static Path tmp;

    static Path models;
    static Path model;
    static Path data;
    static Path yaml;

    @BeforeAll
    static void setUp() throws Exception {
        CliVolumes volumes = CliVolumes.write(tmp, 40);
        models = volumes.models();
        model = models.resolve(CliVolumes.MODEL);
        data = volumes.data();
        yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, job(1, ""));
    }

    @Test
    void everySubcommandAnswersHelp() {
        Map<String, CommandLine> subcommands = FinetuneCli.commandLine().getSubcommands();
        assertThat(subcommands).containsKeys("run", "check-data", "generate", "merge", "inspect", "quickstart-assets");
        for (String name : subcommands.keySet()) {
            Outcome o = cli(name, "--help");
            assertThat(o.code()).as(name + ": " + o.err()).isZero();
            assertThat(o.out()).as(name).contains("Usage: finetune " + name).contains("--help");
        }
    }

    @Test
    void unknownOptionIsAUsageErrorWithASuggestion() {
        Outcome o = cli("run", "--dryrun", yaml.toString());
        assertThat(o.code()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune run: usage: Unknown option: '--dryrun'").contains("--dry-run")
                .contains("finetune run --help");
    }

    @Test
    void generateRefusesSamplingOptionsOutOfRangeBeforeLoadingTheModel() {
        for (List<String> bad : List.of(List.of("--temperature", "-1"), List.of("--top-p", "2"), List.of("--top-p", "0"),
                List.of("--top-k", "-3"), List.of("--max-new-tokens", "0"), List.of("--temperature", "NaN"),
                List.of("--precision", "fp8"))) {
            List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model.toString(), "--prompt", "1 2"));
            args.addAll(bad);
            Outcome o = cli(args.toArray(String[]::new));
            assertThat(o.code()).as(bad + ": " + o.err()).isEqualTo(CliException.USAGE);
            assertThat(o.err()).as(bad.toString()).contains("finetune generate: usage: " + bad.get(0) + " " );
        }
    }

    @Test
    void mergeRefusesAnOutputThatIsOrHoldsItsInputs() throws Exception {
        Path adapter = tmp.resolve("adapter");
        Files.createDirectories(adapter);
        Files.writeString(adapter.resolve("adapter_config.json"), "{}");
        Path link = tmp.resolve("model-link");
        Files.createSymbolicLink(link, model);
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        Map<Path, String> cases = Map.of(model, "is the --model directory", link, "is the --model directory",
                model.resolve("merged"), "is inside the --model directory", models, "contains the --model directory",
                adapter, "is the --adapter directory", data, "already holds files that are not a model's");
        cases.forEach((out, message) -> {
            Outcome o = cli("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", out.toString());
            assertThat(o.code()).as(out + ": " + o.err()).isEqualTo(CliException.USAGE);
            assertThat(o.err()).as(out.toString()).contains("finetune merge: usage: --out " + out).contains(message);
        });
        assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(model.resolve("merged")).doesNotExist();
    }

    @Test
    void checkDataPrintsTheReportWithoutWeightsOrAnOutputVolume() throws Exception {
        Path noWeights = tmp.resolve("no-weights");
        Files.createDirectories(noWeights.resolve("tiny-qwen3"));
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(model.resolve(f), noWeights.resolve("tiny-qwen3").resolve(f));
        }
        Outcome o = cli("check-data", yaml.toString(), "--volume", "models=" + noWeights, "--volume", "data=" + data);
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("Dataset " + data.resolve("train.jsonl")).contains("records          40 read")
                .contains("label tokens").contains("ok: ").contains("40 records read, 32 train and 8 eval samples");
    }

    @Test
    void checkDataNamesTheBadRecord() throws Exception {
        Path bad = tmp.resolve("bad-data");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("train.jsonl"), "{\"instruction\": \"1 2\", \"output\": \"3\"}\n{\"instruction\": \"x\"}\n");
        Outcome o = cli("check-data", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + bad);
        assertThat(o.code()).isEqualTo(FailureReason.BAD_DATA.exitCode());
        assertThat(o.err()).contains("finetune check-data: BAD_DATA: " + bad.resolve("train.jsonl") + ":2 (record 1): field 'output': is missing");
    }

    @Test
    void dryRunProvesTheOutputDirectoryIsWritable() throws Exception {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        // /sys refuses new files even to root; a path under a regular file cannot be created by anyone
        for (Path outputs : List.of(Path.of("/sys"), file)) {
            Outcome o = cli("run", "--dry-run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                    "--volume", "outputs=" + outputs);
            assertThat(o.code()).as(outputs + ": " + o.err()).isEqualTo(FailureReason.OUTPUT_UNWRITABLE.exitCode());
            assertThat(o.err()).contains("finetune run: OUTPUT_UNWRITABLE: output directory " + outputs.resolve("runs/cli-test"))
                    .contains("hint: choose a writable output directory");
        }
    }

    @Test
    void dryRunReadsTheWholeDataset() throws Exception {
        Path bad = tmp.resolve("bad-late");
        Files.createDirectories(bad);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            lines.append("{\"instruction\": \"1 2\", \"output\": \"3\"}\n");
        }
        lines.append("{\"instruction\": \"1 2\", \"output\": 3}\n");
        Files.writeString(bad.resolve("train.jsonl"), lines.toString());
        Outcome o = cli("run", "--dry-run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + bad,
                "--volume", "outputs=" + tmp.resolve("never"));
        assertThat(o.code()).isEqualTo(FailureReason.BAD_DATA.exitCode());
        assertThat(o.err()).contains("train.jsonl:31 (record 30): field 'output': is a number, expected a string");
        assertThat(tmp.resolve("never")).doesNotExist();
    }

    @Test
    void missingOrEmptyJobFilesAreNamed() throws Exception {
        Outcome missing = cli("run", tmp.resolve("nope.yaml").toString());
        assertThat(missing.code()).isEqualTo(CliException.USAGE);
        assertThat(missing.err()).contains("JOB.yaml " + tmp.resolve("nope.yaml") + " does not exist");
        Path empty = tmp.resolve("empty.yaml");
        Files.writeString(empty, "");
        Outcome e = cli("run", empty.toString());
        assertThat(e.code()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(e.err()).contains(empty + ": the file is empty");
        Path broken = tmp.resolve("broken.yaml");
        Files.writeString(broken, "apiVersion: finetune.dev/v1alpha1\nkind: [FineTuneJob\n");
        Outcome b = cli("run", broken.toString());
        assertThat(b.code()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(b.err()).contains(broken + ":3:1: not valid YAML");
    }

    @Test
    void anUnexpectedExceptionIsReportedAsABugInTheTrainer() {
        CliFailures.Classified c = CliFailures.classify(new NullPointerException("x is null"));
        assertThat(c.exitCode()).isEqualTo(FailureReason.INTERNAL.exitCode());
        assertThat(c.message()).isEqualTo("java.lang.NullPointerException: x is null");
        assertThat(c.hint()).contains("bug in the trainer").contains("open an issue on the finetune-operator project");
        assertThat(CliFailures.classify(new dev.finetune.trainer.data.DatasetException(null, "f", "bad", "fix")).exitCode())
                .isEqualTo(FailureReason.BAD_DATA.exitCode());
    }
}
