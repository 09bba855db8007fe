package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.trainer.hub.FakeHub;
import dev.finetune.trainer.progress.ConfigMapProgressSink;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code finetune init} against a loopback hub: a job's sources land where {@code finetune run} reads them. */
class InitCommandTest {

    private static final String TOKEN = "hf_initCommandToken42";
    private static final byte[] NOTES = "{\"instruction\": \"a\", \"output\": \"b\"}\n".getBytes(StandardCharsets.UTF_8);

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
                NOTES));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private Outcome init(Map<String, String> env, String... args) {
        return init(env, command -> { }, args);
    }

    private Outcome init(Map<String, String> env, java.util.function.Consumer<InitCommand> setUp, String... args) {
        CommandLine cli = FinetuneCli.commandLine();
        InitCommand command = (InitCommand) cli.getSubcommands().get("init").getCommand();
        command.env = env;
        setUp.accept(command);
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

    /** The trainer config the operator hands a pod of attempt 3 of job from-hub, reporting to from-hub-progress. */
    private Path podConfig(Path models, Path data) throws Exception {
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, """
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: from-hub, namespace: team-a}
                spec:
                  model: {source: "hf://tiny-org/tiny-llama", tokenSecret: {name: hf-token}, pvc: {claimName: models, path: hub}}
                  dataset: {source: "hf://datasets/tiny-org/notes@v1/train.jsonl", pvc: {claimName: data, path: hub}}
                  output: {pvc: {claimName: outputs, path: runs/from-hub}}
                """);
        TrainerConfig local = JobInput.load(job, Map.of("models", models, "data", data, "outputs", dir), null, null, true);
        TrainerConfig inPod = new TrainerConfig(local.schemaVersion(), new TrainerConfig.JobRef("from-hub", "team-a", "uid-1"), 3,
                local.paths(), local.spec(), local.distributed(), null,
                new TrainerConfig.ProgressChannel("from-hub-progress", "team-a", TrainerConfigs.PROGRESS_KEY, null));
        Path config = dir.resolve("trainer-config.json");
        Files.writeString(config, TrainerJson.write(inPod));
        return config;
    }

    /** A stand-in API server: each PATCH of the progress ConfigMap, as the report under {@code key}. */
    private static HttpServer apiServer(List<ProgressReport> patches, List<String> paths) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            JsonNode patch = new ObjectMapper().readTree(exchange.getRequestBody().readAllBytes());
            paths.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + String.join(",", (Iterable<String>) patch.path("data")::fieldNames));
            patch.path("data").forEach(value -> patches.add(TrainerJson.read(value.asText(), ProgressReport.class)));
            exchange.sendResponseHeaders(200, 2);
            exchange.getResponseBody().write("{}".getBytes(StandardCharsets.UTF_8));
            exchange.close();
        });
        server.start();
        return server;
    }

    @Test
    void rankZeroReportsEachSourcesBytesToTheProgressConfigMapWhileDownloading() throws Exception {
        Map<String, byte[]> model = new LinkedHashMap<>();
        model.put("config.json", "{\"model_type\": \"llama\"}".getBytes(StandardCharsets.UTF_8));
        model.put("model.safetensors", new byte[64 * 1024]);
        hub.addModel("tiny-org/tiny-llama", "main", model);
        hub.pace(4096, 40); // 16 pieces, ~0.6 s for the weights
        Path models = Files.createDirectories(dir.resolve("models"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path config = podConfig(models, data);
        List<ProgressReport> patches = new CopyOnWriteArrayList<>();
        List<String> paths = new CopyOnWriteArrayList<>();
        HttpServer api = apiServer(patches, paths);
        try {
            URI base = URI.create("http://127.0.0.1:" + api.getAddress().getPort());
            Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString(), "HF_TOKEN", TOKEN, "NODE_RANK", "0"), command -> {
                command.reportIntervalMillis = 50;
                command.progressSinks = channel -> ConfigMapProgressSink.at(base, "sa-token", channel.namespace(),
                        channel.configMapName(), TrainerConfigs.INITIALIZER_PROGRESS_KEY);
            }, "--config", config.toString(), "--volume", "models=" + models, "--volume", "data=" + data);
            assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        } finally {
            api.stop(0);
        }

        assertThat(paths).as("every PATCH goes to the job's progress ConfigMap, key initialize.json").isNotEmpty()
                .allMatch(p -> p.equals("PATCH /api/v1/namespaces/team-a/configmaps/from-hub-progress initialize.json"));
        long modelTotal = 64 * 1024 + model.get("config.json").length;
        assertThat(patches).allSatisfy(r -> {
            assertThat(r.attempt()).isEqualTo(3);
            assertThat(r.state()).isEqualTo(TrainerState.INITIALIZING);
            assertThat(r.progress()).isNull();
        });
        assertThat(patches.stream().map(r -> r.downloadList().getFirst())
                .filter(d -> d.bytesDone() > 0 && d.bytesDone() < d.bytesTotal()))
                .as("a report while the model was half there").isNotEmpty()
                .allSatisfy(d -> assertThat(d.bytesTotal()).isEqualTo(modelTotal));
        assertThat(patches.stream().map(ProgressReport::sequence).toList()).as("sequences increase").isSorted();
        ProgressReport last = patches.getLast();
        assertThat(last.downloadList()).extracting(SourceDownload::input, SourceDownload::source, SourceDownload::bytesDone,
                SourceDownload::bytesTotal).containsExactly(
                        tuple("model", "hf://tiny-org/tiny-llama@main", modelTotal, modelTotal),
                        tuple("dataset", "hf://datasets/tiny-org/notes@v1/train.jsonl", (long) NOTES.length, (long) NOTES.length));
    }

    @Test
    void otherRanksOnlyPrintTheirProgress() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path config = podConfig(models, data);
        List<String> sinks = new CopyOnWriteArrayList<>();

        Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString(), "HF_TOKEN", TOKEN, "NODE_RANK", "1"),
                command -> command.progressSinks = channel -> {
                    sinks.add(channel.configMapName());
                    return report -> { };
                }, "--config", config.toString(), "--volume", "models=" + models, "--volume", "data=" + data);

        assertThat(outcome.exitCode()).as(outcome.err()).isZero();
        assertThat(sinks).isEmpty();
        assertThat(outcome.out()).contains("model hf://tiny-org/tiny-llama@main: 4.12 kB of 4.12 kB (100%)");
    }

    @Test
    void aConfigWhoseClaimHasNoVolumeIsAUsageErrorNamingIt() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Path config = podConfig(models, Files.createDirectories(dir.resolve("data")));

        Outcome outcome = init(Map.of("HF_ENDPOINT", hub.url().toString(), "HF_TOKEN", TOKEN, "NODE_RANK", "1"),
                "--config", config.toString(), "--volume", "models=" + models);

        assertThat(outcome.exitCode()).isEqualTo(64);
        assertThat(outcome.err()).contains("claim data").contains("--volume data=DIR");
    }
}
