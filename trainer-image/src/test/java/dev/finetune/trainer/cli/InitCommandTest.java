package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.trainer.hub.FakeHub;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code finetune init} against a loopback hub: a job's sources land where {@code finetune run} reads them. */
class InitCommandTest {

    private static final String TOKEN = "hf_initCommandToken42";

    @TempDir
    Path dir;

    private FakeHub hub;

    record Outcome(int exitCode, String out, String err) {
    }

    @BeforeEach
    void startHub() throws Exception {
        hub = FakeHub.start();
        hub.requireToken(TOKEN);
        Map<String, byte[]> model = new LinkedHashMap<>();
        model.put("config.json", "{\"model_type\": \"llama\"}".getBytes(StandardCharsets.UTF_8));
        model.put("model.safetensors", new byte[4096]);
        hub.addModel("tiny-org/tiny-llama", "main", model);
        hub.addDataset("tiny-org/notes", "v1", Map.of("train.jsonl",
                "{\"instruction\": \"a\", \"output\": \"b\"}\n".getBytes(StandardCharsets.UTF_8)));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private Outcome init(Map<String, String> env, String... args) {
        CommandLine cli = FinetuneCli.commandLine();
        ((InitCommand) cli.getSubcommands().get("init").getCommand()).env = env;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "init";
            System.arraycopy(args, 0, all, 1, args.length);
            return new Outcome(cli.execute(all), out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void aJobsSourcesLandWhereTheTrainerReadsThem() throws Exception {
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, """
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: from-hub}
                spec:
                  model: {source: "hf://tiny-org/tiny-llama", tokenSecret: {name: hf-token}, pvc: {claimName: models, path: hub}}
                  dataset: {source: "hf://datasets/tiny-org/notes@v1/train.jsonl", pvc: {claimName: data, path: hub}}
                  output: {pvc: {claimName: outputs, path: runs/from-hub}}
                """);
        Path models = Files.createDirectories(dir.resolve("models"));
        Path data = Files.createDirectories(dir.resolve("data"));

        Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString(), "FINETUNE_MODEL_TOKEN", TOKEN, "HF_TOKEN", TOKEN),
                job.toString(), "--volume", "models=" + models, "--volume", "data=" + data);

        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        Path modelDir = models.resolve("hub/models--tiny-org--tiny-llama/snapshots/main");
        assertThat(modelDir.resolve("config.json")).exists();
        assertThat(data.resolve("hub/datasets--tiny-org--notes/snapshots/v1/train.jsonl")).exists();
        assertThat(outcome.out()).contains("model hf://tiny-org/tiny-llama@main: 4.12 kB of 4.12 kB (100%)")
                .contains("model hf://tiny-org/tiny-llama@main: ready at " + modelDir)
                .doesNotContain(TOKEN);
        var config = JobInput.load(job, Map.of("models", models, "data", data, "outputs", dir), null, null);
        assertThat(config.paths().modelDir()).isEqualTo(modelDir.toString());
    }

    @Test
    void oneSourceIntoACacheDirectoryWithATokenFile() throws Exception {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");

        Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString()), "hf://tiny-org/tiny-llama@main",
                "--cache-dir", dir.resolve("cache").toString(), "--token-file", tokenFile.toString());

        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(dir.resolve("cache/models--tiny-org--tiny-llama/snapshots/main/model.safetensors")).hasSize(4096);
    }

    @Test
    void aMissingTokenEndsAsAConfigurationErrorNamingTheSecret() {
        Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString()), "hf://tiny-org/tiny-llama",
                "--cache-dir", dir.resolve("cache").toString());

        assertThat(outcome.exitCode()).isEqualTo(78);
        assertThat(outcome.err()).contains("source hf://tiny-org/tiny-llama@main: hf://tiny-org/tiny-llama@main: HTTP 401")
                .contains("tokenSecret");
    }

    @Test
    void aSourceWithoutACacheDirectoryIsAUsageError() {
        Outcome outcome = init(Map.of(), "hf://tiny-org/tiny-llama");

        assertThat(outcome.exitCode()).isEqualTo(64);
        assertThat(outcome.err()).contains("needs --cache-dir DIR");
    }
}
