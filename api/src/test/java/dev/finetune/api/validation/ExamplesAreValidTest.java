package dev.finetune.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.RepoFiles;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every FineTuneJob under examples/ is accepted by the CRD's schema and rules, and yields a trainer config. */
class ExamplesAreValidTest {

    private static final FineTuneJobValidator VALIDATOR = new FineTuneJobValidator();

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.walk(RepoFiles.root().resolve("examples"))) {
            List<Path> jobs = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .filter(ExamplesAreValidTest::isFineTuneJob)
                    .sorted()
                    .toList();
            assertThat(jobs).as("FineTuneJob examples").hasSizeGreaterThanOrEqualTo(2);
            return jobs.stream();
        }
    }

    private static boolean isFineTuneJob(Path file) {
        try {
            return "FineTuneJob".equals(TrainerJson.yaml().readTree(file.toFile()).path("kind").asText());
        } catch (IOException e) {
            throw new AssertionError("unreadable example " + file, e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void exampleIsAcceptedByTheCrd(Path example) throws IOException {
        JsonNode manifest = TrainerJson.yaml().readTree(example.toFile());

        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void exampleBecomesATrainerConfigForTheCluster(Path example) throws IOException {
        FineTuneJob job = TrainerJson.readJob(example);
        job.getMetadata().setNamespace("team-a");

        TrainerConfig config = TrainerConfigs.forCluster(job, 1, null, job.getMetadata().getName() + "-0.workers");

        assertThat(config.paths().modelDir()).startsWith("/mnt/volumes/" + job.getSpec().getModel().getPvc().getClaimName() + "/");
        assertThat(config.paths().outputDir()).startsWith("/mnt/volumes/" + job.getSpec().getOutput().getPvc().getClaimName() + "/");
        assertThat(config.distributed().worldSize()).isEqualTo(job.getSpec().getResources().worldSize());
        assertThat(config.progress().configMapName()).isEqualTo(job.getMetadata().getName() + "-progress");
    }
}
