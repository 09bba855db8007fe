package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.testing.CliVolumes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input table of docs/reliability.md: each case runs the real CLI in-process on a fresh directory with
 * one thing wrong, and its exit code and what it prints on stderr become a row. The test fails when a row
 * differs from the committed file, and when any case exits 0 or 70 (INTERNAL, a bug).
 *
 * <p>To regenerate the table after an intended change:
 * {@code FINETUNE_UPDATE_RELIABILITY=1 bash test.sh -pl trainer-image -am -Dtest=ReliabilityTableTest
 * -Dsurefire.failIfNoSpecifiedTests=false}, then review the diff of docs/reliability.md.
 */
class ReliabilityTableTest {

    static final Path DOC = Path.of("..", "docs", "reliability.md").toAbsolutePath().normalize();
    static final String BEGIN = "<!-- BEGIN GENERATED TABLE (ReliabilityTableTest) -->";
    static final String END = "<!-- END GENERATED TABLE -->";

    @TempDir
    static Path tmp;

    static Path baseModel;
    static Path baseData;

    /** One bad input: where it is, what is wrong, and the command line, made in its own directory {@code dir}. */
    record Case(String area, String what, Setup setup) {}

    interface Setup {
        List<String> args(Path dir) throws IOException;
    }

    @BeforeAll
    static void base() throws IOException {
        baseModel = CliVolumes.writeModel(tmp.resolve("base/models/tiny-qwen3"));
        baseData = QuickstartAssets.writeDataset(tmp.resolve("base/data/train.jsonl"), 20, 3);
    }

    // ---- fixtures: every case gets dir/models/tiny-qwen3, dir/data/train.jsonl, dir/job.yaml, dir/outputs ----

    static Path model(Path dir) throws IOException {
        Path m = dir.resolve("models/tiny-qwen3");
        if (!Files.exists(m)) {
            Files.createDirectories(m);
            try (Stream<Path> files = Files.list(baseModel)) {
                for (Path f : files.toList()) {
                    Files.copy(f, m.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return m;
    }

    static Path data(Path dir, String content) throws IOException {
        Path d = dir.resolve("data/train.jsonl");
        Files.createDirectories(d.getParent());
        if (content == null) {
            Files.copy(baseData, d, StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.writeString(d, content);
        }
        return d;
    }

    static Path job(Path dir, String yaml) throws IOException {
        Path j = dir.resolve("job.yaml");
        Files.createDirectories(dir);
        Files.writeString(j, yaml);
        return j;
    }

    static String yaml() {
        return CliHarness.job(1, "");
    }

    /** {@code verb [flags] job.yaml --volume ...} on the case's own model, data and outputs. */
    static List<String> command(Path dir, String verb, String yaml, String data) throws IOException {
        model(dir);
        if (!Files.exists(dir.resolve("data/train.jsonl"))) {
            data(dir, data);
        }
        List<String> args = new ArrayList<>(List.of(verb.split(" ")));
        args.add(job(dir, yaml).toString());
        args.addAll(List.of("--volume", "models=" + dir.resolve("models"), "--volume", "data=" + dir.resolve("data"),
                "--volume", "outputs=" + dir.resolve("outputs")));
        return args;
    }

    static Setup dryRun(String yaml) {
        return dir -> command(dir, "run --dry-run", yaml, null);
    }

    static Setup dryRunData(String data) {
        return dir -> command(dir, "run --dry-run", yaml(), data);
    }

    static Setup dryRunData(String yaml, String data) {
        return dir -> command(dir, "run --dry-run", yaml, data);
    }

    static Setup checkData(String yaml, String data) {
        return dir -> command(dir, "check-data", yaml, data);
    }

    /** A dry run whose model directory was changed by {@code edit}. */
    static Setup modelEdit(ModelEdit edit) {
        return dir -> {
            edit.apply(model(dir));
            return command(dir, "run --dry-run", yaml(), null);
        };
    }

    /** A real run (weights loaded) whose model directory was changed by {@code edit}. */
    static Setup runModelEdit(ModelEdit edit) {
        return dir -> {
            edit.apply(model(dir));
            return command(dir, "run", yaml(), null);
        };
    }

    interface ModelEdit {
        void apply(Path model) throws IOException;
    }

    static ModelEdit editJson(String file, String from, String to) {
        return m -> {
            String text = Files.readString(m.resolve(file));
            assertThat(text).as(file).contains(from);
            Files.writeString(m.resolve(file), text.replace(from, to));
        };
    }

    static Setup generate(String... extra) {
        return dir -> {
            List<String> args = new ArrayList<>(List.of("generate", "--model", model(dir).toString(), "--prompt", "1 2 3"));
            args.addAll(List.of(extra));
            return args;
        };
    }

    static Path adapter(Path dir) throws IOException {
        Path a = dir.resolve("adapter");
        Files.createDirectories(a);
        Files.writeString(a.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\"}");
        return a;
    }

    static String alpaca(String instruction, String output) {
        return "{\"instruction\": \"" + instruction + "\", \"output\": \"" + output + "\"}\n";
    }

    static final String GOOD = alpaca("1 2 3", "4 5 6");

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        String y = yaml();
        // ---- the FineTuneJob spec (validated as kubectl apply validates it) ----
        c.add(new Case("spec", "LoRA rank 0", dryRun(y.replace("rank: 4", "rank: 0"))));
        c.add(new Case("spec", "misspelt field (`learningrate`)", dryRun(y.replace("learningRate:", "learningrate:"))));
        c.add(new Case("spec", "wrong apiVersion", dryRun(y.replace("finetune.dev/v1alpha1", "finetune.dev/v1"))));
        c.add(new Case("spec", "wrong kind", dryRun(y.replace("kind: FineTuneJob", "kind: TrainJob"))));
        c.add(new Case("spec", "no spec.model", dryRun(y.replace("""
                  model:
                    pvc: {claimName: models, path: tiny-qwen3}
                    name: tiny-qwen3
                """, ""))));
        c.add(new Case("spec", "warmupSteps and warmupRatio both set", dryRun(y.replace("warmupSteps: 1",
                "warmupSteps: 1\n    warmupRatio: 0.1"))));
        c.add(new Case("spec", "evalSplit 1.5", dryRun(y.replace("evalSplit: 0.2", "evalSplit: 1.5"))));
        c.add(new Case("spec", "precision fp8", dryRun(y.replace("precision: fp32", "precision: fp8"))));
        c.add(new Case("spec", "unknown dataset format", dryRun(y.replace("format: alpaca", "format: openai"))));
        c.add(new Case("spec", "maxSeqLength 0", dryRun(y.replace("maxSeqLength: 64", "maxSeqLength: 0"))));
        c.add(new Case("spec", "splitTurns with trainOn lastAssistantTurn", dryRun(y.replace("maxSeqLength: 64",
                "maxSeqLength: 64\n    splitTurns: true\n    trainOn: lastAssistantTurn"))));
        c.add(new Case("spec", "DoRA with bias all", dryRun(y.replace("dropout: 0.0", "dropout: 0.0\n    useDora: true\n    bias: all"))));
        c.add(new Case("spec", "target module lm_head", dryRun(y.replace("[all-linear]", "[lm_head]"))));
        c.add(new Case("spec", "negative learning rate", dryRun(y.replace("learningRate: 1.0e-2", "learningRate: -1.0e-2"))));
        c.add(new Case("spec", "batchSize 0", dryRun(y.replace("batchSize: 4", "batchSize: 0"))));
        c.add(new Case("spec", "epochs and a curriculum both set", dryRun(y.replace("epochs: 1", "epochs: 1\n    curriculum: "
                + "{stages: [{name: all, upTo: 1.0, epochs: 1}]}"))));
        c.add(new Case("spec", "curriculum whose last stage is not upTo 1", dryRun(y.replace("    epochs: 1\n",
                "    curriculum: {stages: [{name: easy, upTo: 0.5, epochs: 1}]}\n"))));
        c.add(new Case("spec", "YAML syntax error", dryRun(y.replace("kind: FineTuneJob", "kind: [FineTuneJob"))));
        c.add(new Case("spec", "tab-indented YAML", dryRun(y.replace("  name: cli-test", "\tname: cli-test"))));
        c.add(new Case("spec", "empty job file", dryRun("")));
        c.add(new Case("spec", "a YAML list instead of a manifest", dryRun("- a\n- b\n")));
        c.add(new Case("dataset spec", "unknown chat template name", dryRunData(y.replace("maxSeqLength: 64",
                "maxSeqLength: 64\n    template: vicuna"), null)));
        c.add(new Case("dataset spec", "unknown dataset.columns key", dryRunData(y.replace("maxSeqLength: 64",
                "maxSeqLength: 64\n    columns: {question: q}"), null)));
        // ---- the dataset ----
        c.add(new Case("dataset", "malformed JSON line", dryRunData(GOOD + "{\"instruction\": \"x\" \"output\": \"y\"}\n")));
        c.add(new Case("dataset", "Latin-1 bytes", dir -> {
            Path d = data(dir, null);
            Files.write(d, new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xE9, '"', '}', '\n'});
            return command(dir, "run --dry-run", yaml(), null);
        }));
        c.add(new Case("dataset", "alpaca record without output", dryRunData(GOOD + "{\"instruction\": \"x\"}\n")));
        c.add(new Case("dataset", "empty output", dryRunData(alpaca("1 2", " "))));
        c.add(new Case("dataset", "instruction is a number", dryRunData("{\"instruction\": 42, \"output\": \"y\"}\n")));
        c.add(new Case("dataset", "record is a string", dryRunData("\"just text\"\n")));
        c.add(new Case("dataset", "alpaca file declared format: messages", dryRunData(y.replace("format: alpaca",
                "format: messages"), GOOD)));
        c.add(new Case("dataset", "messages record without messages", dryRunData(y.replace("format: alpaca",
                "format: messages"), "{\"system\": \"s\"}\n")));
        c.add(new Case("dataset", "sharegpt record with an empty list", dryRunData(y.replace("format: alpaca", "format: auto"),
                "{\"conversations\": []}\n")));
        c.add(new Case("dataset", "unknown sharegpt role", dryRunData(y.replace("format: alpaca", "format: auto"),
                "{\"conversations\": [{\"from\": \"human\", \"value\": \"1\"}, {\"from\": \"bot\", \"value\": \"2\"}]}\n")));
        c.add(new Case("dataset", "tool message", dryRunData(y.replace("format: alpaca", "format: auto"),
                "{\"messages\": [{\"role\": \"user\", \"content\": \"1\"}, {\"role\": \"tool\", \"content\": \"2\"}]}\n")));
        c.add(new Case("dataset", "conversation without an assistant turn", dryRunData(y.replace("format: alpaca",
                "format: auto"), "{\"messages\": [{\"role\": \"user\", \"content\": \"1\"}]}\n")));
        c.add(new Case("dataset", "conversation starting with the assistant", dryRunData(y.replace("format: alpaca",
                "format: auto"), "{\"messages\": [{\"role\": \"assistant\", \"content\": \"1\"}]}\n")));
        c.add(new Case("dataset", "image content part", dryRunData(y.replace("format: alpaca", "format: auto"),
                "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}, "
                        + "{\"role\": \"assistant\", \"content\": \"2\"}]}\n")));
        c.add(new Case("dataset", "preference record without chosen", dryRunData(y.replace("format: alpaca",
                "format: preference"), "{\"prompt\": \"1\", \"rejected\": \"2\"}\n")));
        c.add(new Case("dataset", "fields of no known format", dryRunData(y.replace("format: alpaca", "format: auto"),
                "{\"q\": \"1\", \"a\": \"2\"}\n")));
        c.add(new Case("dataset", "text record whose text is a number", dryRunData(y.replace("format: alpaca",
                "format: text"), "{\"text\": 5}\n")));
        c.add(new Case("dataset", "over-long sample, truncation off", dryRunData(y.replace("maxSeqLength: 64",
                "maxSeqLength: 16\n    truncation: false"), GOOD + alpaca("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "17"))));
        c.add(new Case("dataset", "every record skipped (skipInvalidRecords)", dryRunData(y.replace("maxSeqLength: 64",
                "maxSeqLength: 64\n    skipInvalidRecords: true"), "{\"instruction\": \"x\"}\n{\"output\": \"y\"}\n")));
        c.add(new Case("dataset", "empty dataset file", dryRunData("")));
        c.add(new Case("dataset", "text after the closing ] of a .json file", dir -> {
            Files.createDirectories(dir.resolve("data"));
            Files.writeString(dir.resolve("data/train.json"), "[" + GOOD.strip() + "] x");
            return command(dir, "run --dry-run", yaml().replace("path: train.jsonl", "path: train.json"), null);
        }));
        c.add(new Case("dataset", "directory without .json/.jsonl files", dir -> {
            Files.createDirectories(dir.resolve("data/train.jsonl"));
            return command(dir, "run --dry-run", yaml(), null);
        }));
        c.add(new Case("dataset", "dataset path does not exist", dir -> {
            Files.createDirectories(dir.resolve("data"));
            return command(dir, "run --dry-run", yaml().replace("path: train.jsonl", "path: nope.jsonl"), null);
        }));
        c.add(new Case("dataset", "eval file does not exist", dryRun(y.replace("evalSplit: 0.2", "evalPath: eval.jsonl"))));
        c.add(new Case("dataset", "selection score that is not a number", dryRunData(y.replace("maxSeqLength: 64",
                "maxSeqLength: 64\n    selection: {topN: 1, by: score, scoreField: q}"), "{\"instruction\": \"1\", "
                + "\"output\": \"2\", \"q\": \"high\"}\n")));
        c.add(new Case("dataset", "a bad record found by check-data", checkData(y, GOOD + "{\"instruction\": \"x\"}\n")));
        // ---- the model directory ----
        c.add(new Case("model", "no config.json", modelEdit(m -> Files.delete(m.resolve("config.json")))));
        c.add(new Case("model", "model path is a file", dir -> {
            Files.createDirectories(dir.resolve("models"));
            Files.writeString(dir.resolve("models/tiny-qwen3"), "x");
            return command(dir, "run --dry-run", yaml(), null);
        }));
        c.add(new Case("model", "config.json is not JSON", modelEdit(m -> Files.writeString(m.resolve("config.json"), "{"))));
        c.add(new Case("model", "unsupported model_type", modelEdit(editJson("config.json", "\"llama\"", "\"gpt2\""))));
        c.add(new Case("model", "hidden_size not divisible by the heads", modelEdit(editJson("config.json",
                "\"hidden_size\" : 32", "\"hidden_size\" : 30"))));
        c.add(new Case("model", "num_key_value_heads 0", modelEdit(editJson("config.json",
                "\"num_key_value_heads\" : 2", "\"num_key_value_heads\" : 0"))));
        c.add(new Case("model", "unsupported rope_scaling", modelEdit(editJson("config.json", "\"rope_theta\"",
                "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}, \"rope_theta\""))));
        c.add(new Case("model", "no model.safetensors (a .bin checkpoint)", modelEdit(m -> Files.move(
                m.resolve("model.safetensors"), m.resolve("pytorch_model.bin")))));
        c.add(new Case("model", "truncated model.safetensors", modelEdit(m -> {
            byte[] b = Files.readAllBytes(m.resolve("model.safetensors"));
            Files.write(m.resolve("model.safetensors"), java.util.Arrays.copyOf(b, 100));
        })));
        c.add(new Case("model", "safetensors header is not JSON", modelEdit(m -> {
            ByteBuffer b = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(4).put("{no}".getBytes());
            Files.write(m.resolve("model.safetensors"), b.array());
        })));
        c.add(new Case("model", "shard index names a missing shard", modelEdit(m -> Files.writeString(
                m.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"lm_head.weight\": \"model-00002.safetensors\"}}"))));
        c.add(new Case("model", "no tokenizer.json", modelEdit(m -> Files.delete(m.resolve("tokenizer.json")))));
        c.add(new Case("model", "tokenizer.json is not a tokenizer", modelEdit(m -> Files.writeString(m.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"Nope\"}}"))));
        c.add(new Case("model", "tokenizer_config.json is not JSON", modelEdit(m -> Files.writeString(
                m.resolve("tokenizer_config.json"), "{\"eos_token\": "))));
        c.add(new Case("model", "eos_token that is not one token", modelEdit(editJson("tokenizer_config.json",
                "\"eos_token\" : \"</s>\"", "\"eos_token\" : \"<end of story>\""))));
        c.add(new Case("model", "eos_token_id outside the vocabulary", modelEdit(editJson("generation_config.json",
                "\"eos_token_id\" : 3", "\"eos_token_id\" : 500"))));
        c.add(new Case("model", "chat template that does not parse", modelEdit(editJson("tokenizer_config.json",
                "{% endfor %}", "{% endfor"))));
        c.add(new Case("model", "chat template needing bos_token, which the model lacks", modelEdit(editJson(
                "tokenizer_config.json", "{% for message in messages %}", "{{ bos_token + '' }}{% for message in messages %}"))));
        c.add(new Case("model", "chat template refusing the roles", dir -> {
            editJson("tokenizer_config.json", "{% for message in messages %}",
                    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                            + "{% for message in messages %}").apply(model(dir));
            return command(dir, "run --dry-run", yaml().replace("format: alpaca", "format: auto"),
                    "{\"system\": \"Be brief.\", \"instruction\": \"1 2\", \"output\": \"3\"}\n");
        }));
        c.add(new Case("model", "a tensor of the wrong shape (found when the weights load)", runModelEdit(m -> {
            String header;
            try (SafetensorsFile f = SafetensorsFile.open(m.resolve("model.safetensors"))) {
                assertThat(f.entries()).containsKey("model.norm.weight");
            }
            byte[] b = Files.readAllBytes(m.resolve("model.safetensors"));
            long length = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            header = new String(b, 8, (int) length, java.nio.charset.StandardCharsets.UTF_8);
            String changed = header.replaceFirst("\"model.norm.weight\":\\{\"dtype\":\"F32\",\"shape\":\\[32\\]",
                    "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[2,16]");
            assertThat(changed).isNotEqualTo(header);
            System.arraycopy(changed.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, b, 8, (int) length);
            Files.write(m.resolve("model.safetensors"), b);
        })));
        c.add(new Case("model", "a missing tensor (found when the weights load)", runModelEdit(m -> {
            byte[] b = Files.readAllBytes(m.resolve("model.safetensors"));
            long length = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(b, 8, (int) length, java.nio.charset.StandardCharsets.UTF_8);
            String changed = header.replace("\"model.norm.weight\"", "\"model.norm.weighs\"");
            System.arraycopy(changed.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, b, 8, (int) length);
            Files.write(m.resolve("model.safetensors"), b);
        })));
        // ---- command-line arguments ----
        c.add(new Case("cli", "unknown option", dir -> List.of("run", "--dryrun", job(dir, yaml()).toString())));
        c.add(new Case("cli", "unknown subcommand", dir -> List.of("train", "job.yaml")));
        c.add(new Case("cli", "job file does not exist", dir -> List.of("run", dir.resolve("nope.yaml").toString())));
        c.add(new Case("cli", "job file is a directory", dir -> List.of("run", Files.createDirectories(dir).toString())));
        c.add(new Case("cli", "neither JOB.yaml nor --config", dir -> List.of("run")));
        c.add(new Case("cli", "JOB.yaml and --config both", dir -> List.of("run", job(dir, yaml()).toString(), "--config",
                job(dir, yaml()).toString())));
        c.add(new Case("cli", "a PVC that no --volume maps", dir -> List.of("run", "--dry-run", job(dir, yaml()).toString(),
                "--volume", "models=" + model(dir).getParent())));
        c.add(new Case("cli", "--volume without =", dir -> List.of("run", job(dir, yaml()).toString(), "--volume", "models")));
        c.add(new Case("cli", "--nproc 0", dir -> List.of("run", "--nproc", "0", job(dir, yaml()).toString())));
        c.add(new Case("cli", "--nproc with --config", dir -> List.of("run", "--nproc", "2", "--config",
                job(dir, yaml()).toString())));
        c.add(new Case("cli", "--nproc not a number", dir -> List.of("run", "--nproc", "two", job(dir, yaml()).toString())));
        c.add(new Case("cli", "--resume a checkpoint that does not exist", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run --dry-run", yaml(), null));
            args.addAll(List.of("--resume", "checkpoints/checkpoint-999"));
            return args;
        }));
        c.add(new Case("cli", "--config that is not JSON", dir -> List.of("run", "--config", job(dir, yaml()).toString())));
        c.add(new Case("cli", "--config without paths", dir -> {
            Path f = dir.resolve("config.json");
            Files.createDirectories(dir);
            Files.writeString(f, "{\"schemaVersion\": 1}");
            return List.of("run", "--config", f.toString());
        }));
        c.add(new Case("cli", "generate --temperature -1", generate("--temperature", "-1")));
        c.add(new Case("cli", "generate --top-p 2", generate("--top-p", "2")));
        c.add(new Case("cli", "generate --top-k -1", generate("--top-k", "-1")));
        c.add(new Case("cli", "generate --max-new-tokens 0", generate("--max-new-tokens", "0")));
        c.add(new Case("cli", "generate --precision fp8", generate("--precision", "fp8")));
        c.add(new Case("cli", "generate without --prompt", dir -> List.of("generate", "--model", model(dir).toString())));
        c.add(new Case("cli", "generate --model that does not exist", dir -> List.of("generate", "--model",
                dir.resolve("nope").toString(), "--prompt", "1")));
        c.add(new Case("cli", "generate --model without config.json", dir -> List.of("generate", "--model",
                Files.createDirectories(dir.resolve("empty")).toString(), "--prompt", "1")));
        c.add(new Case("cli", "generate --adapter that is not an adapter", generate("--adapter", "/")));
        c.add(new Case("cli", "merge without --adapter", dir -> List.of("merge", "--model", model(dir).toString(), "--out",
                dir.resolve("merged").toString())));
        c.add(new Case("cli", "merge --out equal to --model", dir -> List.of("merge", "--model", model(dir).toString(),
                "--adapter", adapter(dir).toString(), "--out", model(dir).toString())));
        c.add(new Case("cli", "merge --out inside --model", dir -> List.of("merge", "--model", model(dir).toString(),
                "--adapter", adapter(dir).toString(), "--out", model(dir).resolve("merged").toString())));
        c.add(new Case("cli", "merge --out holding --model", dir -> List.of("merge", "--model", model(dir).toString(),
                "--adapter", adapter(dir).toString(), "--out", dir.resolve("models").toString())));
        c.add(new Case("cli", "merge --out equal to --adapter", dir -> List.of("merge", "--model", model(dir).toString(),
                "--adapter", adapter(dir).toString(), "--out", adapter(dir).toString())));
        c.add(new Case("cli", "merge --out a directory with other files", dir -> {
            Files.createDirectories(dir.resolve("notes"));
            Files.writeString(dir.resolve("notes/todo.txt"), "x");
            return List.of("merge", "--model", model(dir).toString(), "--adapter", adapter(dir).toString(), "--out",
                    dir.resolve("notes").toString());
        }));
        c.add(new Case("cli", "inspect a path that does not exist", dir -> List.of("inspect", dir.resolve("nope").toString())));
        c.add(new Case("cli", "inspect a directory of something else", dir -> List.of("inspect",
                Files.createDirectories(dir.resolve("empty")).toString())));
        // ---- the file system ----
        c.add(new Case("filesystem", "read-only output directory (/sys)", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run --dry-run", yaml(), null));
            args.set(args.size() - 1, "outputs=/sys");
            return args;
        }));
        c.add(new Case("filesystem", "output path under a regular file", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run --dry-run", yaml(), null));
            Files.writeString(dir.resolve("outputs"), "a file");
            return args;
        }));
        c.add(new Case("filesystem", "read-only output directory at run time (before the weights load)", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run", yaml(), null));
            args.set(args.size() - 1, "outputs=/sys");
            return args;
        }));
        c.add(new Case("filesystem", "output's checkpoints/ not writable while the run trains (a link into /sys)", dir -> {
            List<String> args = command(dir, "run", yaml(), null);
            Path run = Files.createDirectories(dir.resolve("outputs/runs/cli-test"));
            Files.createSymbolicLink(run.resolve("checkpoints"), Path.of("/sys/kernel"));
            return args;
        }));
        c.add(new Case("filesystem", "output's adapter/ is a regular file when the final adapter is written", dir -> {
            List<String> args = command(dir, "run", yaml(), null);
            Path run = Files.createDirectories(dir.resolve("outputs/runs/cli-test"));
            Files.writeString(run.resolve("adapter"), "not a directory");
            return args;
        }));
        // ---- found by a new user's review (each used to end silently or misleadingly) ----
        c.add(new Case("spec", "a key given twice (a second `training:` block)", dryRun(y + "  training:\n    epochs: 2\n")));
        c.add(new Case("spec", "two FineTuneJobs in one file", dryRun(y + "---\n" + y.replace("name: cli-test", "name: second"))));
        c.add(new Case("spec", "no metadata.name", dryRun(y.replace("  name: cli-test\n", "  labels: {team: a}\n"))));
        c.add(new Case("dataset", "UTF-16 file", dir -> {
            Path d = data(dir, null);
            byte[] text = GOOD.getBytes(java.nio.charset.StandardCharsets.UTF_16);
            Files.write(d, text);
            return command(dir, "run --dry-run", yaml(), null);
        }));
        c.add(new Case("dataset", "gzip-compressed .jsonl", dir -> {
            Path d = data(dir, null);
            try (var gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(d))) {
                gz.write(GOOD.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return command(dir, "run --dry-run", yaml(), null);
        }));
        c.add(new Case("model", "hidden_size written as a string", modelEdit(editJson("config.json",
                "\"hidden_size\" : 32", "\"hidden_size\" : \"32\""))));
        c.add(new Case("model", "num_hidden_layers 1.5", modelEdit(editJson("config.json",
                "\"num_hidden_layers\" : 1", "\"num_hidden_layers\" : 1.5"))));
        c.add(new Case("cli", "--resume with an empty value (an unset shell variable)", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run", yaml(), null));
            args.addAll(List.of("--resume", ""));
            return args;
        }));
        c.add(new Case("cli", "one claim mapped twice", dir -> {
            List<String> args = new ArrayList<>(command(dir, "run --dry-run", yaml(), null));
            args.addAll(List.of("--volume", "models=" + dir.resolve("data")));
            return args;
        }));
        c.add(new Case("cli", "--volume with an empty directory", dir -> List.of("run", job(dir, yaml()).toString(),
                "--volume", "models=")));
        c.add(new Case("cli", "generate with an empty --prompt", dir -> List.of("generate", "--model", model(dir).toString(),
                "--prompt", "")));
        c.add(new Case("spec", "memory written `4GB`", dryRun(y.replace("    gpus: 0", "    gpus: 0\n    memory: 4GB"))));
        c.add(new Case("dataset", "a FIFO instead of a file", dir -> {
            Path fifo = dir.resolve("data/train.jsonl");
            Files.createDirectories(fifo.getParent());
            try {
                if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() != 0) {
                    throw new IOException("mkfifo " + fifo + " failed");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted making " + fifo, e);
            }
            return command(dir, "run --dry-run", yaml(), null);
        }));
        return c;
    }

    /** One rendered row per case: | # | area | what is wrong | command | exit | stderr |. */
    static List<String> rows() throws IOException {
        List<String> rows = new ArrayList<>();
        List<Case> cases = cases();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Path dir = tmp.resolve(String.format("c%02d", i + 1));
            List<String> args = c.setup().args(dir);
            Outcome o = cli(args.toArray(String[]::new));
            String command = "`finetune " + normalize(String.join(" ", args)) + "`";
            rows.add("| " + (i + 1) + " | " + c.area() + " | " + c.what() + " | " + command + " | " + o.code() + " | "
                    + cell(stderr(o.err())) + " |");
            assertThat(o.code()).as(c.what() + ": " + o.err()).isNotIn(0, FailureReason.INTERNAL.exitCode());
        }
        return rows;
    }

    /** What a user sees on stderr, on one line: stack traces dropped, paths made independent of this machine. */
    static String stderr(String err) {
        return normalize(err.lines().filter(l -> !l.startsWith("\tat ") && !l.isBlank())
                .map(String::strip).reduce((a, b) -> a + " ⏎ " + b).orElse(""));
    }

    static String normalize(String s) {
        return s.replace(tmp.toString(), "$TMP");
    }

    static String cell(String s) {
        return s.replace("|", "\\|").replace("`", "'");
    }

    @Test
    void tableMatchesDocsReliability() throws IOException {
        List<String> rows = rows();
        assertThat(rows).hasSizeGreaterThanOrEqualTo(60);
        String table = "| # | area | what is wrong | command | exit | what it prints (stderr; ⏎ = new line) |\n"
                + "|---|---|---|---|---|---|\n" + String.join("\n", rows) + "\n";
        String doc = Files.readString(DOC);
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("markers in " + DOC).isNotNegative();
        String updated = doc.substring(0, begin + BEGIN.length()) + "\n" + table + doc.substring(end);
        if ("1".equals(System.getenv("FINETUNE_UPDATE_RELIABILITY"))) {
            Files.writeString(DOC, updated);
            doc = updated;
        }
        assertThat(doc).as("docs/reliability.md is stale; regenerate it as this class's comment says").isEqualTo(updated);
    }
}
