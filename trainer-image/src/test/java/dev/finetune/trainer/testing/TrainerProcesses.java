package dev.finetune.trainer.testing;

import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.trainer.cli.FinetuneCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The {@code finetune} CLI in child JVMs, as the operator's pods and {@code finetune run --nproc} start it. */
public final class TrainerProcesses {

    private TrainerProcesses() {}

    /** {@code java <the build's engine settings> -cp <this test's classpath> FinetuneCli args...}. */
    public static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true", "-Dai.djl.pytorch.graph_optimizer=false",
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
}
