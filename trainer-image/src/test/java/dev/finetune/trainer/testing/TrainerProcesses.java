package dev.finetune.trainer.testing;

import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.trainer.cli.FinetuneCli;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The {@code finetune} CLI in child JVMs, as the operator's pods and {@code finetune run --nproc} start it. */
public final class TrainerProcesses {

    private TrainerProcesses() {}

    /** {@code java <the launcher's JVM options> -cp <this test's classpath> FinetuneCli args...}. */
    public static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Dai.djl.offline=true", "-Dai.djl.pytorch.graph_optimizer=false",
                "-cp", System.getProperty("java.class.path"), FinetuneCli.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The claims of the tests' jobs (models, data, outputs) as directories under {@code dir}. */
    public static Map<String, Path> volumes(Path dir) {
        return Map.of("models", dir.resolve("models"), "data", dir.resolve("data"), "outputs", dir.resolve("outputs"));
    }

    /**
     * Writes {@code dir/trainer-config.json}: the job {@code yaml} with its claims under {@code dir}, as a gang of
     * {@code workers} single-process workers meeting on 127.0.0.1:{@code port}, as the operator hands it over.
     */
    public static Path gangConfig(Path dir, Path yaml, int workers, CollectiveBackend backend, int port) throws IOException {
        TrainerConfig local = TrainerConfigs.forLocalRun(TrainerJson.readJob(yaml), volumes(dir)::get, null);
        TrainerConfig config = new TrainerConfig(local.schemaVersion(), local.job(), 1, local.paths(), local.spec(),
                new TrainerConfig.Distributed(workers, 1, backend, "127.0.0.1", port), null, local.progress());
        Path file = dir.resolve("trainer-config.json");
        Files.writeString(file, TrainerJson.write(config));
        return file;
    }

    /**
     * The quickstart's synthetic model ({@code dir/models/tiny}) and {@code records} records of its dataset
     * ({@code dir/data/train.jsonl}), and {@code dir/job.yaml}: a FineTuneJob {@code name} on that model whose
     * spec continues with {@code specLines} (YAML at the spec's indentation).
     */
    public static Path quickstartJob(Path dir, int records, String name, String specLines) throws IOException {
        QuickstartAssets.writeModel(dir.resolve("models/tiny"), QuickstartAssets.Shape.quickstart(), 1);
        QuickstartAssets.writeDataset(dir.resolve("data/train.jsonl"), records, 2);
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, "apiVersion: finetune.dev/v1alpha1\nkind: FineTuneJob\nmetadata: {name: " + name
                + "}\nspec:\n  model: {pvc: {claimName: models, path: tiny}}\n" + specLines.indent(2));
        return yaml;
    }

    /**
     * {@link #quickstartJob(Path, int, String, String)} with the gang tests' data and adapter: the alpaca records
     * with {@code evalSplit} held out, sequences up to 64 tokens, LoRA rank 4 on every linear layer.
     */
    public static Path quickstartLoraJob(Path dir, int records, String name, double evalSplit, String specLines)
            throws IOException {
        return quickstartJob(dir, records, name, "dataset: {pvc: {claimName: data, path: train.jsonl}, format: alpaca, "
                + "evalSplit: " + evalSplit + ", maxSeqLength: 64}\n"
                + "lora: {rank: 4, alpha: 8, dropout: 0.0, targetModules: [all-linear]}\n" + specLines);
    }
}
