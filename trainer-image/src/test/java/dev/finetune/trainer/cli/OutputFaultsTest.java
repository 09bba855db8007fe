package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the output volume (issue 18, resource faults): a corrupt newest checkpoint is found by its checksums and
 * the run resumes from the one before, ending exactly where a run that resumed from that one ends; a volume that
 * fills up ends the run with OUTPUT_VOLUME_FULL (exit 74) while the checkpoint and adapter written before stay
 * intact and loadable, and the run continues once there is space again.
 */
class OutputFaultsTest {

    @TempDir
    static Path tmp;

    static CliVolumes volumes;

    @BeforeAll
    static void writeVolumes() throws Exception {
        volumes = CliVolumes.write(tmp, 40);
    }

    /** A 2-epoch job (8 steps each) under {@code dir} that stops at {@code maxSteps} and keeps two checkpoints. */
    static Path job(Path dir, int maxSteps) throws IOException {
        Files.createDirectories(dir);
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, CliHarness.job(2, "    maxSteps: " + maxSteps).replace("merge: true", "merge: false")
                .replace("keepCheckpoints: 1", "keepCheckpoints: 2"));
        return yaml;
    }

    static Outcome run(Path dir, Path outputs, int maxSteps) throws IOException {
        return cli(Stream.concat(Stream.of("run", job(dir, maxSteps).toString()), volumes.volumeArgs(outputs).stream())
                .toArray(String[]::new));
    }

    static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    @Test
    void aCorruptNewestCheckpointIsSkippedAndTheRunEndsLikeOneResumedFromTheCheckpointBefore() throws Exception {
        // the reference: 3 steps, then resumed from checkpoint-3 up to step 9
        Path refDir = tmp.resolve("reference");
        Path refOut = refDir.resolve("outputs");
        assertThat(run(refDir, refOut, 3).code()).isZero();
        Outcome ref = run(refDir, refOut, 9);
        assertThat(ref.code()).as(ref.out() + ref.err()).isZero();

        // the same, with a run to step 6 between whose checkpoint is then truncated
        Path dir = tmp.resolve("corrupt");
        Path outputs = dir.resolve("outputs");
        Path runDir = outputs.resolve("runs/cli-test");
        assertThat(run(dir, outputs, 3).code()).isZero();
        assertThat(run(dir, outputs, 6).code()).isZero();
        Path six = runDir.resolve("checkpoints/checkpoint-6");
        assertThat(TrainingCheckpoint.list(runDir)).containsExactly(runDir.resolve("checkpoints/checkpoint-3"), six);
        Path weights = six.resolve(PeftAdapter.WEIGHTS);
        Files.write(weights, java.util.Arrays.copyOf(Files.readAllBytes(weights), 100));

        Outcome o = run(dir, outputs, 9);
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("warning: checkpoint checkpoints/checkpoint-6 is corrupt: adapter_model.safetensors "
                        + "(100 bytes) does not match its SHA-256 in checksums.sha256 (truncated or overwritten since it "
                        + "was written); resuming from checkpoints/checkpoint-3 instead")
                .contains("resumed from " + runDir.resolve("checkpoints/checkpoint-3") + " at step 3");
        JsonNode warnings = json(runDir.resolve("progress.json")).path("warnings");
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).path("reason").asText()).isEqualTo("CheckpointCorrupt");
        assertThat(warnings.get(0).path("message").asText()).contains("checkpoint-6 is corrupt");

        // exactly one checkpoint interval repeated: the eval losses and the adapter equal the reference's
        JsonNode history = json(runDir.resolve("manifest.json")).path("history");
        JsonNode refHistory = json(refOut.resolve("runs/cli-test/manifest.json")).path("history");
        assertThat(history).isNotEmpty();
        assertThat(evalLosses(history)).containsExactlyElementsOf(evalLosses(refHistory));
        Map<String, float[]> adapter = PeftAdapter.read(runDir.resolve("adapter")).tensors();
        Map<String, float[]> refAdapter = PeftAdapter.read(refOut.resolve("runs/cli-test/adapter")).tensors();
        assertThat(adapter.keySet()).isEqualTo(refAdapter.keySet());
        adapter.forEach((name, values) -> assertThat(values).as(name).containsExactly(refAdapter.get(name)));
        // the rewritten step-6 checkpoint replaced the corrupt one
        assertThat(TrainingCheckpoint.latestIntact(runDir).rejected()).isEmpty();
    }

    /**
     * After a gang restart the operator names the job's last checkpoint: when that one is corrupt the trainer falls
     * back to the one before as with latest (a local --resume of a corrupt checkpoint is refused instead).
     */
    @Test
    void aCorruptCheckpointNamedByTheOperatorFallsBackAndOneNamedOnTheCommandLineIsRefused() throws Exception {
        Path dir = tmp.resolve("restart");
        Path outputs = dir.resolve("outputs");
        Path runDir = outputs.resolve("runs/cli-test");
        assertThat(run(dir, outputs, 3).code()).isZero();
        assertThat(run(dir, outputs, 6).code()).isZero();
        Path state = runDir.resolve("checkpoints/checkpoint-6/" + TrainingCheckpoint.STATE);
        Files.writeString(state, Files.readString(state).replace("\"globalStep\" : 6", "\"globalStep\" : 5"));

        Outcome local = cli(Stream.of(List.of("run", job(dir, 9).toString()), volumes.volumeArgs(outputs),
                List.of("--resume", "checkpoints/checkpoint-6")).flatMap(List::stream).toArray(String[]::new));
        assertThat(local.code()).as(local.out() + local.err()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(local.err()).contains("resumeFrom checkpoints/checkpoint-6: the checkpoint is corrupt: trainer_state.json");

        var job = dev.finetune.api.trainer.TrainerJson.readJob(job(dir, 9));
        var local9 = dev.finetune.api.trainer.TrainerConfigs.forLocalRun(job,
                volumes.claims(outputs)::get, "checkpoints/checkpoint-6");
        var fromOperator = new dev.finetune.api.trainer.TrainerConfig(local9.schemaVersion(), local9.job(), 2,
                local9.paths(), local9.spec(), local9.distributed(), local9.resumeFrom(),
                new dev.finetune.api.trainer.TrainerConfig.ProgressChannel("cli-test-progress", "default", "progress.json",
                        local9.progress().file()));
        Path config = dir.resolve("trainer-config.json");
        Files.writeString(config, dev.finetune.api.trainer.TrainerJson.write(fromOperator));
        Outcome o = cli("run", "--config", config.toString());
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("warning: checkpoint checkpoints/checkpoint-6 is corrupt: trainer_state.json (")
                .contains("resuming from checkpoints/checkpoint-3 instead")
                .contains("resumed from " + runDir.resolve("checkpoints/checkpoint-3") + " at step 3");
    }

    private static List<Double> evalLosses(JsonNode history) {
        return java.util.stream.StreamSupport.stream(history.spliterator(), false)
                .map(r -> r.path("evalLoss").asDouble()).toList();
    }

    /** Needs root (mount): a 2 MiB tmpfs as the output volume, filled up between two runs. */
    @Test
    void aFullOutputVolumeEndsTheRunWithOutputVolumeFullAndKeepsTheCheckpointAndAdapterBefore() throws Exception {
        Path dir = tmp.resolve("full");
        Path outputs = dir.resolve("outputs");
        Files.createDirectories(outputs);
        Assumptions.assumeTrue(exec("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", outputs.toString()),
                "mounting a tmpfs needs root");
        try {
            Path runDir = outputs.resolve("runs/cli-test");
            Outcome first = run(dir, outputs, 3);
            assertThat(first.code()).as(first.out() + first.err()).isZero();
            Path three = runDir.resolve("checkpoints/checkpoint-3");
            Map<String, float[]> adapterBefore = PeftAdapter.read(runDir.resolve("adapter")).tensors();

            Path filler = outputs.resolve("filler");
            fill(filler);
            Outcome o = run(dir, outputs, 6);
            assertThat(o.code()).as(o.out() + o.err()).isEqualTo(FailureReason.OUTPUT_VOLUME_FULL.exitCode()).isEqualTo(74);
            // the run evaluates at its last step and writes the best adapter before the final checkpoint
            assertThat(o.err()).contains("finetune: OUTPUT_VOLUME_FULL: cannot write the best adapter to ")
                    .contains("adapter-best: No space left on device")
                    .contains("hint: The output directory's file system is full")
                    .doesNotContain("\tat ").doesNotContain("INTERNAL");
            // progress.json cannot be written either: said once, not at every report
            assertThat(o.err().lines().filter(l -> l.startsWith("warning: cannot write progress to "))).hasSize(1);

            // what was written before is intact and loadable; no partial copy is left taking space
            assertThat(TrainingCheckpoint.latestIntact(runDir).checkpoint()).contains(three);
            assertThat(TrainingCheckpoint.verify(three)).isEmpty();
            Map<String, float[]> adapterAfter = PeftAdapter.read(runDir.resolve("adapter")).tensors();
            adapterBefore.forEach((name, values) -> assertThat(adapterAfter.get(name)).as(name).containsExactly(values));
            try (Stream<Path> walk = Files.walk(runDir)) {
                assertThat(walk.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.startsWith(".tmp-") || n.startsWith(".writing-"));
            }

            // with space again, the same command resumes from the checkpoint and finishes
            Files.delete(filler);
            Outcome again = run(dir, outputs, 6);
            assertThat(again.code()).as(again.out() + again.err()).isZero();
            assertThat(again.out()).contains("resumed from " + three + " at step 3");
        } finally {
            exec("umount", "-l", outputs.toString());
        }
    }

    /** Writes {@code file} until the file system says it is full. */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[16 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            assertThat(e.getMessage()).contains("No space left on device");
        }
    }

    private static boolean exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
