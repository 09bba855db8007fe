package dev.finetune.trainer.launch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.run.TerminationLog;
import dev.finetune.trainer.testing.TrainerProcesses;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher with the real trainer on CPU: a worker pod's entrypoint with processesPerWorker 2 (no
 * arguments, FINETUNE_CONFIG, NODE_RANK) and {@code finetune run job.yaml --nproc 2}, two child JVMs
 * training a tiny model through the TCP all-reduce.
 */
class LauncherCpuIT {

    @TempDir
    Path tmp;

    Path terminationLog;

    @BeforeEach
    void assets() throws Exception {
        QuickstartAssets.writeModel(tmp.resolve("models/tiny"), QuickstartAssets.Shape.quickstart(), 1);
        QuickstartAssets.writeDataset(tmp.resolve("data/train.jsonl"), 400, 2);
        QuickstartAssets.writeDataset(tmp.resolve("data/small.jsonl"), 120, 2);
        terminationLog = Files.createFile(tmp.resolve("termination-log"));
    }

    static String job(String output, String dataset, int epochs, int batchSize) {
        return """
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: launch}
                spec:
                  model: {pvc: {claimName: models, path: tiny}}
                  dataset: {pvc: {claimName: data, path: %s}, format: alpaca, evalSplit: 0.1, maxSeqLength: 64}
                  lora: {rank: 4, alpha: 8, dropout: 0.0, targetModules: [all-linear]}
                  training: {epochs: %d, learningRate: 3.0e-3, batchSize: %d, precision: fp32, logEverySteps: 1,
                             samplePrompts: 0}
                  resources: {gpus: 0}
                  output: {pvc: {claimName: outputs, path: %s}, keepCheckpoints: 3}
                """.formatted(dataset, epochs, batchSize, output);
    }

    Process java(List<String> args, Map<String, String> env, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(TrainerProcesses.command(args.toArray(String[]::new))).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeAll(List.of("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"));
        pb.environment().put("OMP_NUM_THREADS", "2"); // one thread per rank
        pb.environment().put(TerminationLog.PATH_ENV, terminationLog.toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    Process runNproc(Path yaml, Path log) throws Exception {
        return java(List.of("run", yaml.toString(), "--nproc", "2", "--volume", "models=" + tmp.resolve("models"),
                "--volume", "data=" + tmp.resolve("data"), "--volume", "outputs=" + tmp.resolve("outputs")), Map.of(), log);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    Path config(TrainerConfig local, String output, TrainerConfig.Distributed distributed) throws Exception {
        Path out = tmp.resolve("outputs").resolve(output);
        TrainerConfig.Paths paths = new TrainerConfig.Paths(local.paths().modelDir(), local.paths().datasetPath(),
                local.paths().evalPath(), out.toString());
        TrainerConfig config = new TrainerConfig(local.schemaVersion(), local.job(), 1, paths, local.spec(), distributed, null,
                new TrainerConfig.ProgressChannel(null, null, TrainerConfigs.PROGRESS_KEY, out.resolve("progress.json").toString()));
        Path file = tmp.resolve(output + ".json");
        Files.writeString(file, TrainerJson.write(config));
        return file;
    }

    /** A {@code --nproc 2} run under way. */
    record Started(Path yaml, Path run, Path log, Process launcher) {}

    /** Starts job {@code name} (3 epochs, batch 2) with two ranks and waits until it has taken {@code step} steps. */
    Started startNprocUntilStep(String name, long step) throws Exception {
        Path yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, job(name, "train.jsonl", 3, 2));
        Path run = tmp.resolve("outputs").resolve(name);
        Path log = tmp.resolve(name + ".log");
        Process launcher = runNproc(yaml, log);
        awaitStep(launcher, run, step, log);
        return new Started(yaml, run, log, launcher);
    }

    static long step(Path run) {
        try {
            return new ObjectMapper().readTree(run.resolve("progress.json").toFile()).path("progress").path("step").asLong();
        } catch (java.io.IOException notYet) {
            return 0; // not written yet, or being replaced right now
        }
    }

    static void awaitStep(Process p, Path run, long step, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline && p.isAlive() && step(run) < step) {
            Thread.sleep(100);
        }
        assertThat(step(run)).as(Files.readString(log)).isGreaterThanOrEqualTo(step);
    }

    @Test
    void aPodWithTwoRanksTrainsExactlyLikeTwoOneRankWorkers() throws Exception {
        Path yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, job("unused", "small.jsonl", 2, 4));
        Map<String, Path> roots = TrainerProcesses.volumes(tmp);
        TrainerConfig local = TrainerConfigs.forLocalRun(TrainerJson.readJob(yaml), roots::get, null);

        // the pod: no arguments, the mounted config, the operator's variables for worker 0 of 1 with 2 GPUs' worth of ranks
        Path pod = config(local, "pod", new TrainerConfig.Distributed(1, 2, CollectiveBackend.TCP, "127.0.0.1", freePort()));
        Path podLog = tmp.resolve("pod.log");
        Process launcher = java(List.of(), Map.of("FINETUNE_CONFIG", pod.toString(), "NODE_RANK", "0", "LOCAL_WORLD_SIZE", "2",
                "NPROC_PER_NODE", "2", "WORLD_SIZE", "2"), podLog);
        assertThat(launcher.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String log = Files.readString(podLog);
        assertThat(launcher.exitValue()).as(log).isZero();
        assertThat(log).contains("[launcher] starting 2 ranks of 2 on worker 0 (OMP_NUM_THREADS=1 each, of 2)")
                .contains("[rank 0] rank 0 of 2 connected").contains("[rank 1] rank 1 of 2 connected")
                .contains("[rank 1] rank 1 done at step").contains("[rank 0] adapter: ")
                .contains("[launcher] all 2 ranks finished");
        ProgressReport published = TerminationLog.read(terminationLog).orElseThrow();
        assertThat(published.state()).isEqualTo(TrainerState.SUCCEEDED);
        assertThat(published.outputs().getAdapter()).isEqualTo("adapter");

        // the same gang as two one-rank workers (RANK=0/1), the path DistributedCpuIT checks
        Path workers = config(local, "workers", new TrainerConfig.Distributed(2, 1, CollectiveBackend.TCP, "127.0.0.1", freePort()));
        List<Process> ranks = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            ranks.add(java(List.of(), Map.of("FINETUNE_CONFIG", workers.toString(), "RANK", Integer.toString(rank),
                    "OMP_NUM_THREADS", "1", TerminationLog.PATH_ENV, tmp.resolve("none").toString()), tmp.resolve("worker" + rank + ".log")));
        }
        for (int rank = 0; rank < 2; rank++) {
            assertThat(ranks.get(rank).waitFor(300, TimeUnit.SECONDS)).isTrue();
            assertThat(ranks.get(rank).exitValue()).as(Files.readString(tmp.resolve("worker" + rank + ".log"))).isZero();
        }

        Map<String, float[]> viaLauncher = PeftAdapter.read(tmp.resolve("outputs/pod/adapter")).tensors();
        Map<String, float[]> viaWorkers = PeftAdapter.read(tmp.resolve("outputs/workers/adapter")).tensors();
        assertThat(viaLauncher).isNotEmpty().containsOnlyKeys(viaWorkers.keySet());
        viaWorkers.forEach((key, value) -> assertThat(viaLauncher.get(key)).as(key).containsExactly(value));
        JsonNode a = new ObjectMapper().readTree(tmp.resolve("outputs/pod/progress.json").toFile()).path("history");
        JsonNode b = new ObjectMapper().readTree(tmp.resolve("outputs/workers/progress.json").toFile()).path("history");
        assertThat(a).hasSize(2);
        assertThat(a.get(1).path("evalLoss").asDouble()).isEqualTo(b.get(1).path("evalLoss").asDouble())
                .isLessThan(a.get(0).path("evalLoss").asDouble());
    }

    @Test
    void sigtermToTheLauncherReachesEveryRankRankZeroCheckpointsAndTheNextRunResumes() throws Exception {
        Started first = startNprocUntilStep("run", 3);
        Path yaml = first.yaml();
        Path run = first.run();
        Path log = first.log();
        Process launcher = first.launcher();
        launcher.destroy(); // SIGTERM, what the kubelet sends the container's first process
        assertThat(launcher.waitFor(150, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(log);
        assertThat(launcher.exitValue()).as(out).isEqualTo(FailureReason.INTERRUPTED.exitCode());
        assertThat(out).contains("[launcher] received SIGTERM: forwarding it to every rank")
                .contains("[rank 0] stop requested: writing a checkpoint")
                .contains("[launcher] worker 0 stopped: rank 0 exit code 143 (Interrupted), rank 1 exit code 143 (Interrupted)");
        Path checkpoint = TrainingCheckpoint.latest(run).orElseThrow();
        long saved = TrainingCheckpoint.readState(checkpoint).state().globalStep();
        assertThat(saved).isGreaterThanOrEqualTo(3);
        ProgressReport published = TerminationLog.read(terminationLog).orElseThrow();
        assertThat(published.failure().reason()).isEqualTo(FailureReason.INTERRUPTED);
        assertThat(published.lastCheckpoint().step()).isEqualTo(saved);

        Path log2 = tmp.resolve("second.log");
        Process again = runNproc(yaml, log2);
        assertThat(again.waitFor(600, TimeUnit.SECONDS)).isTrue();
        String out2 = Files.readString(log2);
        assertThat(again.exitValue()).as(out2).isZero();
        assertThat(out2).contains("[rank 0] resumed from " + checkpoint + " at step " + saved)
                .contains("[rank 1] resumed from " + checkpoint + " at step " + saved);
        assertThat(run.resolve("adapter/adapter_model.safetensors")).exists();
        assertThat(TerminationLog.read(terminationLog).orElseThrow().state()).isEqualTo(TrainerState.SUCCEEDED);
    }

    @Test
    void aKilledRankStopsItsSiblingAndTheWorkerExitsWithTheKillsCode() throws Exception {
        Started started = startNprocUntilStep("killed", 2);
        Path log = started.log();
        Process launcher = started.launcher();
        Matcher pid = Pattern.compile("\\[launcher] rank 1 \\(local rank 1\\) started, pid (\\d+)").matcher(Files.readString(log));
        assertThat(pid.find()).isTrue();
        long killedAt = System.nanoTime();
        // what the kernel's OOM killer does to one process of a container
        assertThat(ProcessHandle.of(Long.parseLong(pid.group(1))).orElseThrow().destroyForcibly()).isTrue();
        assertThat(launcher.waitFor(120, TimeUnit.SECONDS)).isTrue();
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        String out = Files.readString(log);
        assertThat(launcher.exitValue()).as(out).isEqualTo(137);
        assertThat(seconds).as("rank 0 is stopped long before the 30 s kill timeout").isLessThan(20);
        assertThat(out).contains("[launcher] rank 1 ended with exit code 137 (killed by SIGKILL); stopping ranks [0]")
                .contains("[launcher] worker 0 failed: rank 1 ended with exit code 137 (killed by SIGKILL); then rank 0 exit code");
        // no rank can say more than the exit code and the log: the kubelet falls back to the log's tail
        assertThat(Files.readString(terminationLog)).isEmpty();
    }
}
