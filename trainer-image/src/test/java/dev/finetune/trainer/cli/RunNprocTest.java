package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finetune run --nproc N}: what is checked before any process starts (LauncherCpuIT runs it for real). */
class RunNprocTest {

    @TempDir
    Path tmp;

    Path job() throws Exception {
        Path yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, CliHarness.job(1, ""));
        return yaml;
    }

    @Test
    void nprocBelowOneIsRefusedNamingTheFlag() throws Exception {
        Outcome o = cli("run", job().toString(), "--nproc", "0", "--volume", "models=" + tmp, "--volume", "data=" + tmp,
                "--volume", "outputs=" + tmp);
        assertThat(o.code()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune run: usage: --nproc 0: must be at least 1");
    }

    @Test
    void nprocWithATrainerConfigIsRefused() throws Exception {
        Outcome o = cli("run", "--config", tmp.resolve("trainer-config.json").toString(), "--nproc", "2");
        assertThat(o.code()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("--nproc goes with JOB.yaml").contains("distributed.processesPerWorker");
    }

    @Test
    void aLocalRunWithNprocIsOneWorkerOfNRanksOnAFreeLocalPort() throws Exception {
        TrainerConfig local = TrainerConfigs.forLocalRun(TrainerJson.readJob(job()), claim -> tmp.resolve(claim), null);
        TrainerConfig four = FinetuneCli.Run.withLocalProcesses(local, 4);
        assertThat(four.distributed().workers()).isEqualTo(1);
        assertThat(four.distributed().processesPerWorker()).isEqualTo(4);
        assertThat(four.distributed().worldSize()).isEqualTo(4);
        assertThat(four.distributed().backend()).as("resources.gpus: 0").isEqualTo(CollectiveBackend.TCP);
        assertThat(four.distributed().rendezvousHost()).isEqualTo("127.0.0.1");
        assertThat(four.distributed().rendezvousPort()).isBetween(1024, 65535);
        assertThat(four.paths()).isEqualTo(local.paths());
        assertThat(four.spec()).isSameAs(local.spec());
    }

    @Test
    void dryRunWithNprocChecksThePathsWithoutStartingAnything() throws Exception {
        CliVolumes.write(tmp, 10);
        Map<String, Path> v = Map.of("models", tmp.resolve("models"), "data", tmp.resolve("data"), "outputs", tmp.resolve("out"));
        Outcome o = cli("run", job().toString(), "--nproc", "2", "--dry-run", "--volume", "models=" + v.get("models"),
                "--volume", "data=" + v.get("data"), "--volume", "outputs=" + v.get("outputs"));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).startsWith("model: ").contains("records          10 read").contains("\nok: ")
                .doesNotContain("[launcher]");
    }
}
