package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.trainer.fuzz.Mutation;
import dev.finetune.trainer.fuzz.ScratchDirs;
import dev.finetune.trainer.fuzz.TextMutation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A valid FineTuneJob YAML (with the optional blocks: eval file, selection, curriculum, early stopping) with its
 * tree or its bytes mutated, loaded as {@code finetune run} loads it (schema and CEL validation, volume mapping,
 * path checks): each outcome is a trainer config or a {@link CliException} with a user-error exit code whose
 * message names the file or the path. Never another exception.
 */
class JobFuzzTest {

    private static Path dir;
    private static Map<String, Path> volumes;

    static final String JOB = CliHarness.job(2, """
                evalEverySteps: 4
                earlyStopping: {patience: 2, minDelta: 0.001}
            """.stripTrailing().replace("            ", "    "))
            .replace("    evalSplit: 0.2\n", "    evalPath: eval.jsonl\n    selection: {topN: 10, by: length, dedupe: true}\n"
                    + "    columns: {instruction: question}\n");

    /** Exit codes of user errors: usage, bad data, bad model, bad config. */
    static final Set<Integer> USER_ERRORS = Set.of(CliException.USAGE, FailureReason.BAD_DATA.exitCode(),
            FailureReason.BAD_MODEL.exitCode(), FailureReason.BAD_CONFIG.exitCode());

    @BeforeContainer
    static void createVolumes() throws IOException {
        dir = Files.createTempDirectory("job-fuzz");
        Files.createDirectories(dir.resolve("models/tiny-qwen3"));
        Files.writeString(dir.resolve("models/tiny-qwen3/config.json"), "{}");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/train.jsonl"), "{}\n");
        Files.writeString(dir.resolve("data/eval.jsonl"), "{}\n");
        volumes = Map.of("models", dir.resolve("models"), "data", dir.resolve("data"), "outputs", dir.resolve("outputs"));
    }

    @AfterContainer
    static void deleteDir() throws IOException {
        ScratchDirs.delete(dir);
    }

    @Property(tries = 400)
    void mutatedJobsLoadOrFailWithAUserError(@ForAll(supplier = Mutation.Edits.class) List<Mutation> mutations) throws IOException {
        JsonNode job = Mutation.applyAll(TrainerJson.yaml().readTree(JOB), mutations);
        check(TrainerJson.yaml().writeValueAsBytes(job));
    }

    @Property(tries = 300)
    void mutatedJobBytesLoadOrFailWithAUserError(@ForAll(supplier = TextMutation.Edits.class) List<TextMutation> mutations) throws IOException {
        check(TextMutation.applyAll(JOB.getBytes(java.nio.charset.StandardCharsets.UTF_8), mutations));
    }

    /** Found by the first property (seed -2239175513612940144): a NUL in a volume path ended as InvalidPathException. */
    @Example
    void aNulInAVolumePathIsABadConfigNamingTheField() throws IOException {
        String yaml = JOB.replace("path: tiny-qwen3", "path: \"tiny-qwen3\\0\"");
        Path file = Files.writeString(Files.createTempFile(dir, "job-", ".yaml"), yaml);
        try {
            assertThatThrownBy(() -> JobInput.load(file, volumes, null, "latest")).isInstanceOfSatisfying(CliException.class,
                    e -> assertThat(e.exitCode()).isEqualTo(FailureReason.BAD_CONFIG.exitCode()))
                    .hasMessageContaining(file.toString()).hasMessageContaining("spec.model.pvc.path")
                    .hasMessageContaining("must not contain control characters");
        } finally {
            Files.delete(file);
        }
    }

    private static void check(byte[] yaml) throws IOException {
        Path file = Files.createTempFile(dir, "job-", ".yaml");
        Files.write(file, yaml);
        try {
            TrainerConfig config = JobInput.load(file, volumes, null, "latest");
            Preflight.paths(config);
            Preflight.resumeCheckpoint(config);
            assertThat(config.spec()).isNotNull();
        } catch (CliException e) {
            assertThat(USER_ERRORS).as(e.getMessage()).contains(e.exitCode());
            assertThat(e.getMessage()).as("names the file or the path").containsAnyOf(file.toString(), dir.toString());
        } finally {
            Files.delete(file);
        }
    }
}
