package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.hub.FakeHub;
import dev.finetune.trainer.oci.LoopbackRegistry;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Models and data in, adapters out, on one machine: a job whose model and data come from a (loopback) hub,
 * initialised with {@code finetune init}, trained with {@code finetune run}, its adapter pushed to a real registry
 * by output.push and pulled back with {@code finetune pull} by the digest the run reported, then loaded.
 */
class HubToRegistryRunTest {

    @TempDir
    Path tmp;

    @Test
    void aJobFromTheHubPushesAnAdapterThatPullsBackByDigestAndLoads() throws Exception {
        Path modelFiles = QuickstartAssets.writeModel(tmp.resolve("published/tiny-qwen3"),
                new QuickstartAssets.Shape(32, 48, 1, 4, 2), 5);
        Path trainFile = QuickstartAssets.writeDataset(tmp.resolve("published/train.jsonl"), 40, 3);
        try (FakeHub hub = FakeHub.start();
                LoopbackRegistry registry = LoopbackRegistry.start(Files.createDirectories(tmp.resolve("registry")), "")) {
            Map<String, byte[]> model = new LinkedHashMap<>();
            try (Stream<Path> files = Files.list(modelFiles)) {
                for (Path f : files.sorted().toList()) {
                    model.put(f.getFileName().toString(), Files.readAllBytes(f));
                }
            }
            hub.addModel("tiny-org/tiny-qwen3", "main", model);
            hub.addDataset("tiny-org/notes", "v1", Map.of("data/train.jsonl", Files.readAllBytes(trainFile)));

            Path yaml = tmp.resolve("job.yaml");
            Files.writeString(yaml, CliHarness.job(1, "    maxSteps: 1")
                    .replace("name: cli-test", "name: from-hub")
                    .replace("pvc: {claimName: models, path: tiny-qwen3}\n    name: tiny-qwen3",
                            "source: hf://tiny-org/tiny-qwen3\n    pvc: {claimName: models, path: hub-cache}")
                    .replace("pvc: {claimName: data, path: train.jsonl}",
                            "source: hf://datasets/tiny-org/notes@v1/data/train.jsonl\n    pvc: {claimName: data, path: hub-cache}")
                    .replace("keepCheckpoints: 1", "keepCheckpoints: 1\n    push: {oci: \"" + registry.address() + "/adapters/tiny\", merged: true}"));
            String[] volumes = {"--volume", "models=" + tmp.resolve("models"), "--volume", "data=" + tmp.resolve("data"),
                    "--volume", "outputs=" + tmp.resolve("outputs")};
            Files.createDirectories(tmp.resolve("models"));
            Files.createDirectories(tmp.resolve("data"));
            Files.createDirectories(tmp.resolve("outputs"));

            CommandLine cli = FinetuneCli.commandLine();
            ((InitCommand) cli.getSubcommands().get("init").getCommand()).env = Map.of("HF_ENDPOINT", hub.url().toString());
            String[] initArgs = Stream.concat(Stream.of("init", yaml.toString()), Stream.of(volumes)).toArray(String[]::new);
            assertThat(cli.execute(initArgs)).isZero();

            Outcome run = cli(Stream.concat(Stream.of("run", yaml.toString()), Stream.of(volumes)).toArray(String[]::new));
            assertThat(run.code()).as(run.out() + run.err()).isZero();
            Matcher pushed = Pattern.compile("pushed adapter: (\\S+@sha256:[0-9a-f]{64})").matcher(run.out());
            assertThat(pushed.find()).as(run.out()).isTrue();
            String pinned = pushed.group(1);
            assertThat(pinned).startsWith(registry.address() + "/adapters/tiny@sha256:");
            Path runDir = tmp.resolve("outputs/runs/cli-test");
            JsonNode manifest = new ObjectMapper().readTree(runDir.resolve("progress.json").toFile());
            assertThat(manifest.path("outputs").path("pushedAdapter").asText()).isEqualTo(pinned);

            Path pulled = tmp.resolve("pulled");
            Outcome pull = cli("pull", "oci://" + pinned, "--out", pulled.toString());
            assertThat(pull.code()).as(pull.out() + pull.err()).isZero();
            assertThat(pulled.resolve("adapter_model.safetensors"))
                    .hasSameBinaryContentAs(runDir.resolve("adapter/adapter_model.safetensors"));
            PeftAdapter.Loaded loaded = PeftAdapter.read(pulled);
            assertThat(loaded.tensors()).isNotEmpty();
            assertThat(Files.readString(pulled.resolve("adapter_config.json"))).contains("tiny-org/tiny-qwen3");

            // push.merged: the merged model in the same repository, tagged <job>-merged, pulled back file for file
            Matcher merged = Pattern.compile("pushed merged model: (\\S+@sha256:[0-9a-f]{64})").matcher(run.out());
            assertThat(merged.find()).as(run.out()).isTrue();
            assertThat(merged.group(1)).startsWith(registry.address() + "/adapters/tiny@sha256:").isNotEqualTo(pinned);
            assertThat(manifest.path("outputs").path("pushedMerged").asText()).isEqualTo(merged.group(1));
            Path pulledMerged = tmp.resolve("pulled-merged");
            Outcome pullMerged = cli("pull", "oci://" + registry.address() + "/adapters/tiny:from-hub-merged", "--out",
                    pulledMerged.toString());
            assertThat(pullMerged.code()).as(pullMerged.out() + pullMerged.err()).isZero();
            try (Stream<Path> files = Files.list(runDir.resolve("merged"))) {
                List<Path> written = files.sorted().toList();
                assertThat(written).isNotEmpty();
                for (Path file : written) {
                    assertThat(pulledMerged.resolve(file.getFileName())).hasSameBinaryContentAs(file);
                }
            }
        }
    }
}
