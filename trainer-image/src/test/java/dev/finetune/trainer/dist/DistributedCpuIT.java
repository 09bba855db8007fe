package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.trainer.testing.TrainerProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two worker processes (RANK=0/1, one trainer config, as the operator starts them) train one adapter. */
class DistributedCpuIT {

    @TempDir
    Path tmp;

    @Test
    void twoProcessesTrainTogetherAndRankZeroWritesTheOutputs() throws Exception {
        Path yaml = TrainerProcesses.quickstartLoraJob(tmp, 120, "dist", 0.1, """
                training: {epochs: 2, learningRate: 3.0e-3, batchSize: 4, precision: fp32, logEverySteps: 5,
                           samplePrompts: 1, sampleMaxNewTokens: 4}
                resources: {gpus: 0, workers: 2}
                output: {pvc: {claimName: outputs, path: run}}
                """);
        Path configFile = TrainerProcesses.gangConfig(tmp, yaml, 2, CollectiveBackend.TCP, DataParallelTest.freePort());
        List<Process> procs = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            ProcessBuilder pb = new ProcessBuilder(TrainerProcesses.command()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("rank" + rank + ".log").toFile());
            pb.environment().put("FINETUNE_CONFIG", configFile.toString());
            pb.environment().put("RANK", Integer.toString(rank));
            pb.environment().put("OMP_NUM_THREADS", "1");
            procs.add(pb.start());
        }
        for (int rank = 0; rank < 2; rank++) {
            Process p = procs.get(rank);
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
            String log = Files.readString(tmp.resolve("rank" + rank + ".log"));
            assertThat(p.exitValue()).as(log).isEqualTo(0);
            assertThat(log).contains("rank " + rank + " of 2 connected");
        }
        assertThat(Files.readString(tmp.resolve("rank1.log"))).contains("rank 1 done");
        Path run = tmp.resolve("outputs/run");
        assertThat(run.resolve("adapter/adapter_model.safetensors")).exists();
        JsonNode progress = new ObjectMapper().readTree(run.resolve("progress.json").toFile());
        assertThat(progress.path("state").asText()).isEqualTo("SUCCEEDED");
        JsonNode history = progress.path("history");
        assertThat(history).hasSize(2);
        assertThat(history.get(1).path("evalLoss").asDouble()).isLessThan(history.get(0).path("evalLoss").asDouble());
    }
}
