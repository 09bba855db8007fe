package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static dev.finetune.trainer.cli.CliHarness.job;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code precision: fp16} through {@code finetune run}: the loss scale reaches the log and the manifest. */
class Fp16RunTest {

    @TempDir
    Path tmp;

    @Test
    void anFp16RunLogsTheLossScaleAndRecordsSkippedStepsInTheManifest() throws Exception {
        CliVolumes volumes = CliVolumes.write(tmp, 40);
        Path models = volumes.models();
        Path data = volumes.data();
        Path outputs = tmp.resolve("outputs");
        Path yaml = tmp.resolve("job.yaml");
        // gpus: 1 because the API rejects fp16 with gpus: 0; a local run uses the CPU when there is no GPU
        Files.writeString(yaml, job(1, "").replace("precision: fp32", "precision: fp16").replace("merge: true", "merge: false")
                .replace("gpus: 0", "gpus: 1"));
        Outcome run = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(run.code()).as(run.out() + run.err()).isEqualTo(0);
        assertThat(run.out()).containsPattern("step 2/\\d+ .*\\| grad norm \\d+\\.\\d+ .*\\| loss scale \\d+");
        JsonNode manifest = new ObjectMapper().readTree(outputs.resolve("runs/cli-test/manifest.json").toFile());
        long steps = manifest.get("steps").asLong();
        assertThat(steps).isPositive();
        assertThat(manifest.get("skippedSteps").asLong()).isBetween(0L, steps - 1);
        // 2^16 at the start, halved per skip; growth needs 2000 clean steps
        assertThat(manifest.get("lossScale").asDouble())
                .isEqualTo(65536.0 / Math.pow(2, manifest.get("skippedSteps").asLong()));
        // the same figures reach status.progress through the progress report (kubectl get -o yaml)
        JsonNode progress = new ObjectMapper().readTree(outputs.resolve("runs/cli-test/progress.json").toFile()).get("progress");
        assertThat(progress.get("skippedSteps").asLong()).isEqualTo(manifest.get("skippedSteps").asLong());
        assertThat(progress.get("lossScale").asDouble()).isEqualTo(manifest.get("lossScale").asDouble());
    }
}
