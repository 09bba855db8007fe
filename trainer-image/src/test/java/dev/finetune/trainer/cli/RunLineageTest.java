package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.run.RunLineage;
import dev.finetune.trainer.testing.CliVolumes;
import dev.finetune.trainer.testing.TrainerProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What runs do with their output directory across invocations (issue 11, problems 2, 3, 4, 6 and 9): a one-step run
 * trains, a finished job run again changes nothing, {@code --resume none} moves the earlier run aside and keeps its
 * own checkpoints, an output directory that cannot be written ends in exit 73 naming the path, and a resume prints
 * nothing on stderr.
 */
class RunLineageTest {

    @TempDir
    static Path tmp;

    static CliVolumes volumes;

    @BeforeAll
    static void writeVolumes() throws Exception {
        volumes = CliVolumes.write(tmp, 40);
    }

    /** A job file under {@code dir} with no merge (faster) and the given training lines (4-space indented). */
    static Path job(Path dir, int epochs, String training) throws IOException {
        Files.createDirectories(dir);
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, CliHarness.job(epochs, training).replace("merge: true", "merge: false"));
        return yaml;
    }

    static Outcome run(Path yaml, Path outputs, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("run", yaml.toString()));
        args.addAll(volumes.volumeArgs(outputs));
        args.addAll(List.of(extra));
        return cli(args.toArray(String[]::new));
    }

    /** Every file under {@code dir}: its bytes' hash, size and modification time. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(f).toString(), java.util.Arrays.hashCode(Files.readAllBytes(f)) + " "
                        + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis());
            }
        }
        return files;
    }

    static boolean anyNonZeroB(Path adapter) {
        return PeftAdapter.read(adapter).tensors().entrySet().stream().filter(e -> e.getKey().endsWith("lora_B.weight"))
                .anyMatch(e -> {
                    for (float v : e.getValue()) {
                        if (v != 0) {
                            return true;
                        }
                    }
                    return false;
                });
    }

    /** Problem 2: maxSteps 1 with the default warmup (ratio 0.03 rounds up to 1 step) trains its step at the peak. */
    @Test
    void aOneStepRunTrainsAtThePeakAndSucceeds() throws Exception {
        Path dir = tmp.resolve("one-step");
        Path yaml = job(dir, 1, "    maxSteps: 1");
        Files.writeString(yaml, Files.readString(yaml).replace("    warmupSteps: 1\n", ""));
        Path outputs = dir.resolve("outputs");
        Outcome o = run(yaml, outputs);
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("step 1/1").contains("lr 1.000e-02");
        Path runDir = outputs.resolve("runs/cli-test");
        assertThat(anyNonZeroB(runDir.resolve("adapter"))).isTrue();
        JsonNode manifest = new ObjectMapper().readTree(runDir.resolve("manifest.json").toFile());
        assertThat(manifest.path("steps").asLong()).isEqualTo(1);

        Outcome again = run(yaml, outputs);
        assertThat(again.code()).as(again.out() + again.err()).isZero();
        assertThat(again.out()).contains("already finished");
    }

    /** Problem 4: a finished job run again trains nothing, changes no file, says so and exits 0. */
    @Test
    void aFinishedJobRunAgainChangesNothing() throws Exception {
        Path dir = tmp.resolve("finished");
        Path yaml = job(dir, 2, "");
        Path outputs = dir.resolve("outputs");
        Outcome first = run(yaml, outputs);
        assertThat(first.code()).as(first.out() + first.err()).isZero();
        Path runDir = outputs.resolve("runs/cli-test");
        Map<String, String> before = snapshot(runDir);
        assertThat(before).containsKeys("report.html", "manifest.json", "progress.json", "adapter/adapter_model.safetensors",
                "adapter-best/adapter_model.safetensors");
        Thread.sleep(20); // a rewrite would show in the modification times

        Outcome again = run(yaml, outputs);
        assertThat(again.code()).as(again.out() + again.err()).isZero();
        assertThat(again.out()).contains("finetune: job cli-test already finished in " + runDir)
                .contains("nothing trained, no output changed").contains("best adapter: " + runDir.resolve("adapter-best"))
                .contains("--resume none").doesNotContain("trainable params").doesNotContain("step ");
        assertThat(again.err()).isEmpty();
        assertThat(snapshot(runDir)).isEqualTo(before);

        Outcome dry = run(yaml, outputs, "--dry-run");
        assertThat(dry.code()).isZero();
        assertThat(dry.out()).contains("holds a finished run of this job: a run would report it and change nothing");

        // the epoch table shows each epoch's throughput, measured by the trainer
        assertThat(first.out()).containsPattern("\\n2 +\\d+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[1-9][0-9,]* ");
        JsonNode manifest = new ObjectMapper().readTree(runDir.resolve("manifest.json").toFile());
        for (JsonNode h : manifest.path("history")) {
            assertThat(h.path("tokensPerSecond").asDouble()).isPositive();
        }
    }

    /** A changed spec (here a higher maxSteps) continues the finished run instead: the lineage goes on. */
    @Test
    void aFinishedRunContinuesWhenTheSpecAsksForMoreAndResumesQuietly() throws Exception {
        Path dir = tmp.resolve("continue");
        Path outputs = dir.resolve("outputs");
        Path yaml = job(dir, 2, "    maxSteps: 3");
        Outcome first = run(yaml, outputs);
        assertThat(first.code()).as(first.out() + first.err()).isZero();
        Files.writeString(yaml, Files.readString(yaml).replace("maxSteps: 3", "maxSteps: 6"));

        // problem 9: a resume (LoRA weights and AdamW moments loaded) prints nothing of libtorch's on stderr
        List<String> command = new java.util.ArrayList<>(List.of("run", yaml.toString()));
        command.addAll(volumes.volumeArgs(outputs));
        ProcessBuilder pb = new ProcessBuilder(TrainerProcesses.command(command.toArray(String[]::new)));
        pb.environment().put("OMP_NUM_THREADS", "1");
        Path out = dir.resolve("second.out");
        Path err = dir.resolve("second.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        assertThat(p.exitValue()).as(stdout + stderr).isZero();
        assertThat(stdout).contains("holds a finished run of another spec (training.maxSteps: 3 -> 6)")
                .contains("resumed from " + outputs.resolve("runs/cli-test/checkpoints/checkpoint-3")).contains("step 6/6");
        assertThat(stderr).doesNotContain("AutoNonVariableTypeMode").isBlank();
    }

    /**
     * Problem 3: --resume none over a longer earlier run moves it to previous-runs/; retention keeps the new run's
     * checkpoint although the earlier run's had higher step numbers, and the next plain run finds the new run finished.
     */
    @Test
    void resumeNoneMovesTheEarlierRunAsideAndKeepsTheNewRunsCheckpoints() throws Exception {
        Path dir = tmp.resolve("fresh");
        Path outputs = dir.resolve("outputs");
        Path runDir = outputs.resolve("runs/cli-test");
        Outcome longer = run(job(dir, 3, ""), outputs);
        assertThat(longer.code()).as(longer.out() + longer.err()).isZero();
        long oldStep = TrainingCheckpoint.readState(TrainingCheckpoint.latest(runDir).orElseThrow()).state().globalStep();

        Path shorter = job(dir, 1, "");
        Outcome dry = run(shorter, outputs, "--resume", "none", "--dry-run");
        assertThat(dry.out()).contains("holds an earlier run (checkpoints, adapter, adapter-best, epochs, report.html, "
                + "manifest.json, progress.json): a run with --resume none moves it to " + runDir.resolve(RunLineage.PREVIOUS));
        assertThat(runDir.resolve(RunLineage.PREVIOUS)).doesNotExist();

        Outcome fresh = run(shorter, outputs, "--resume", "none");
        assertThat(fresh.code()).as(fresh.out() + fresh.err()).isZero();
        Path previous;
        try (Stream<Path> list = Files.list(runDir.resolve(RunLineage.PREVIOUS))) {
            previous = list.findFirst().orElseThrow();
        }
        assertThat(previous.getFileName().toString()).matches("\\d{8}-\\d{6}Z");
        assertThat(fresh.out()).contains("starting a fresh run: the earlier run's outputs (checkpoints/, adapter/, "
                + "adapter-best/, epochs/, report.html, manifest.json, progress.json) moved to " + previous);
        assertThat(fresh.out()).doesNotContain("resumed from");
        assertThat(TrainingCheckpoint.latest(previous).orElseThrow().getFileName().toString()).isEqualTo("checkpoint-" + oldStep);
        List<Path> kept = TrainingCheckpoint.list(runDir);
        assertThat(kept).hasSize(1);
        long newStep = TrainingCheckpoint.readState(kept.getFirst()).state().globalStep();
        assertThat(newStep).isLessThan(oldStep);
        JsonNode manifest = new ObjectMapper().readTree(runDir.resolve("manifest.json").toFile());
        assertThat(manifest.path("steps").asLong()).isEqualTo(newStep);
        assertThat(manifest.path("spec").path("training").path("epochs").asInt()).isEqualTo(1);

        Outcome plain = run(shorter, outputs);
        assertThat(plain.code()).isZero();
        assertThat(plain.out()).contains("already finished").contains("(" + newStep + " steps");
    }

    /**
     * Problem 6 at run time: the output directory passes the start-up check, but its checkpoints/ cannot be written
     * (a symlink into /sys, which refuses new files even to root): exit 73 naming the path, the hint says what to
     * fix, no stack trace and nothing about gang restarts.
     */
    @Test
    void anOutputThatCannotBeWrittenWhileTrainingIsALocatedError() throws Exception {
        Path dir = tmp.resolve("unwritable");
        Path outputs = dir.resolve("outputs");
        Path runDir = outputs.resolve("runs/cli-test");
        Files.createDirectories(runDir);
        Files.createSymbolicLink(runDir.resolve(TrainingCheckpoint.DIR), Path.of("/sys/kernel"));
        Outcome o = run(job(dir, 1, ""), outputs);
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(FailureReason.OUTPUT_UNWRITABLE.exitCode()).isEqualTo(73);
        assertThat(o.err()).contains("finetune: OUTPUT_UNWRITABLE: cannot write the checkpoint at step ")
                .contains(" to " + runDir.resolve(TrainingCheckpoint.DIR) + ": ")
                .contains("hint: Make the output directory writable").doesNotContain("\tat ")
                .doesNotContainIgnoringCase("gang").doesNotContain("INTERNAL");
        JsonNode progress = new ObjectMapper().readTree(runDir.resolve("progress.json").toFile());
        assertThat(progress.path("failure").path("reason").asText()).isEqualTo("OUTPUT_UNWRITABLE");
        assertThat(progress.path("failure").path("hint").asText()).doesNotContainIgnoringCase("gang");
    }
}
