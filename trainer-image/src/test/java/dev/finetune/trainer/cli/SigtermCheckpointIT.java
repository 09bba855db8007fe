package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.testing.TrainerProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGTERM (what the kubelet sends on eviction or suspend) to a running {@code finetune run}:
 * the process checkpoints at the next step boundary, reports INTERRUPTED and exits 143; the next run
 * resumes from that checkpoint and finishes.
 */
class SigtermCheckpointIT {

    @TempDir
    Path tmp;

    Process start(Path yaml, Path log) throws Exception {
        List<String> cmd = TrainerProcesses.command("run", yaml.toString(), "--volume", "models=" + tmp.resolve("models"),
                "--volume", "data=" + tmp.resolve("data"), "--volume", "outputs=" + tmp.resolve("outputs"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    @Test
    void sigtermCheckpointsAndTheNextRunResumes() throws Exception {
        Path yaml = TrainerProcesses.quickstartLoraJob(tmp, 400, "sigterm", 0.05, """
                training: {epochs: 3, learningRate: 3.0e-3, batchSize: 2, precision: fp32, logEverySteps: 1,
                           samplePrompts: 0}
                resources: {gpus: 0}
                output: {pvc: {claimName: outputs, path: run}, keepCheckpoints: 3}
                """);
        Path run = tmp.resolve("outputs/run");
        Path log = tmp.resolve("first.log");
        Process p = start(yaml, log);
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        long step = 0;
        while (System.nanoTime() < deadline && p.isAlive() && step < 5) {
            Thread.sleep(200);
            Path progress = run.resolve("progress.json");
            if (Files.isRegularFile(progress)) {
                try {
                    step = json.readTree(progress.toFile()).path("progress").path("step").asLong();
                } catch (java.io.IOException ignored) {
                    // being replaced right now
                }
            }
        }
        assertThat(step).as(Files.readString(log)).isGreaterThanOrEqualTo(5);
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isEqualTo(FailureReason.INTERRUPTED.exitCode());
        assertThat(out).contains("stop requested: writing a checkpoint");
        Path checkpoint = TrainingCheckpoint.latest(run).orElseThrow();
        long saved = TrainingCheckpoint.readState(checkpoint).state().globalStep();
        assertThat(saved).isGreaterThanOrEqualTo(5);
        JsonNode progress = json.readTree(run.resolve("progress.json").toFile());
        assertThat(progress.path("state").asText()).isEqualTo("FAILED");
        assertThat(progress.path("failure").path("reason").asText()).isEqualTo("INTERRUPTED");
        assertThat(progress.path("lastCheckpoint").path("step").asLong()).isEqualTo(saved);

        Path log2 = tmp.resolve("second.log");
        Process again = start(yaml, log2);
        assertThat(again.waitFor(600, TimeUnit.SECONDS)).isTrue();
        String out2 = Files.readString(log2);
        assertThat(again.exitValue()).as(out2).isEqualTo(0);
        assertThat(out2).contains("resumed from " + checkpoint).contains("at step " + saved);
        assertThat(run.resolve("adapter/adapter_model.safetensors")).exists();
    }
}
