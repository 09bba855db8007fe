package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.trainer.testing.TrainerProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A GPU worker (backend nccl, world size 2) started as the operator starts it, in its own JVM so the test
 * controls the environment. Shared by the default suite (library missing) and the NCCL wheel suite.
 */
final class GpuGangSetupTest {

    private GpuGangSetupTest() {}

    record Exit(int code, String log, JsonNode progress) {}

    /** Runs rank 0 of a two-process NCCL gang with {@code env} added to this JVM's environment. */
    static Exit runRankZero(Path tmp, Map<String, String> env) throws Exception {
        Path yaml = TrainerProcesses.quickstartJob(tmp, 8, "gpu-gang", """
                dataset: {pvc: {claimName: data, path: train.jsonl}, format: alpaca}
                training: {epochs: 1, precision: fp32}
                resources: {gpus: 1, workers: 2}
                output: {pvc: {claimName: outputs, path: run}}
                """);
        Path configFile = TrainerProcesses.gangConfig(tmp, yaml, 2, CollectiveBackend.NCCL, DataParallelTest.freePort());
        ProcessBuilder pb = new ProcessBuilder(TrainerProcesses.command()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("rank0.log").toFile());
        pb.environment().putAll(Map.of("FINETUNE_CONFIG", configFile.toString(), "RANK", "0", "LOCAL_RANK", "0"));
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the worker exits instead of waiting for peers").isTrue();
        String log = Files.readString(tmp.resolve("rank0.log"));
        Path progressFile = tmp.resolve("outputs/run/progress.json");
        assertThat(progressFile).as(log).exists();
        JsonNode progress = new ObjectMapper().readTree(progressFile.toFile());
        return new Exit(p.exitValue(), log, progress);
    }

    static List<String> failure(Exit exit) {
        JsonNode f = exit.progress().path("failure");
        return List.of(exit.progress().path("state").asText(), f.path("reason").asText(), f.path("message").asText());
    }
}
