package dev.finetune.trainer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.TestModels;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Valid records of every dataset format, mutated (fields deleted, retyped, renamed, added; arrays emptied or
 * grown; bytes cut, dropped or inserted), read with every declared format: each outcome is a prepared dataset
 * or a {@link DatasetException} that names the file and says how to fix it. Never another exception.
 */
class DatasetFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;

    /** One valid record per format, each using the optional fields too. */
    static final List<String> SEEDS = List.of(
            "{\"instruction\": \"Translate.\", \"input\": \"cat\", \"output\": \"Katze\", \"system\": \"Be brief.\","
                    + " \"history\": [[\"Hi\", \"Hello\"]], \"score\": 0.5}",
            "{\"conversation\": [{\"system\": \"Be brief.\", \"input\": \"Capital of Japan?\", \"output\": \"Tokyo.\"},"
                    + " {\"input\": \"And France?\", \"output\": \"Paris.\"}]}",
            "{\"system\": \"s\", \"conversations\": [{\"from\": \"human\", \"value\": \"Hi\"}, {\"from\": \"gpt\", \"value\": \"Hello\"}]}",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": "
                    + "[{\"type\": \"text\", \"text\": \"Hi\"}]}, {\"role\": \"assistant\", \"content\": \"Hello\", "
                    + "\"reasoning_content\": \"greet\"}]}",
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \"Hello!\"}],"
                    + " \"rejected\": \"Go away.\"}",
            "{\"prompt\": \"Hi\", \"chosen\": \"Hello!\", \"rejected\": \"Go away.\"}",
            "{\"text\": \"Plain continuation text.\"}");

    @BeforeContainer
    static void createDir() throws IOException {
        dir = Files.createTempDirectory("dataset-fuzz");
    }

    @AfterContainer
    static void deleteDir() throws IOException {
        ScratchDirs.delete(dir);
    }

    record Setup(int seed, DatasetFormat format, boolean jsonArray, boolean skipInvalid, boolean splitTurns,
            TrainOn trainOn, boolean modelTemplate, boolean withValidRecord) {}

    @Provide
    Arbitrary<Setup> setups() {
        return net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, SEEDS.size() - 1),
                Arbitraries.of(DatasetFormat.class), Arbitraries.of(true, false), Arbitraries.of(true, false),
                Arbitraries.of(true, false), Arbitraries.of(TrainOn.class), Arbitraries.of(true, false),
                Arbitraries.of(true, false)).as(Setup::new);
    }

    @Property(tries = 800)
    void mutatedRecordsEndInADatasetOrALocatedError(@ForAll("setups") Setup setup,
            @ForAll(supplier = Mutation.Edits.class) List<Mutation> mutations) throws IOException {
        JsonNode record = Mutation.applyAll(JSON.readTree(SEEDS.get(setup.seed())), mutations);
        String mutated = JSON.writeValueAsString(record);
        checkOutcome(setup, mutated.getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 500)
    void mutatedBytesEndInADatasetOrALocatedError(@ForAll("setups") Setup setup,
            @ForAll(supplier = TextMutation.Edits.class) List<TextMutation> mutations) throws IOException {
        byte[] bytes = TextMutation.applyAll(JSON.writeValueAsBytes(JSON.readTree(SEEDS.get(setup.seed()))), mutations);
        checkOutcome(setup, bytes);
    }

    private static void checkOutcome(Setup setup, byte[] record) {
        Path file = write(setup, record);
        DatasetSpec spec = new DatasetSpec();
        spec.setFormat(setup.format());
        spec.setTemplate(setup.modelTemplate() ? "model" : "chatml");
        spec.setMaxSeqLength(96);
        spec.setEvalSplit(0.0);
        spec.setSkipInvalidRecords(setup.skipInvalid());
        spec.setSplitTurns(setup.splitTurns() && setup.trainOn() == TrainOn.ALL_ASSISTANT_TURNS);
        spec.setTrainOn(setup.trainOn());
        ModelTokenizer qwen = TestModels.tokenizer(TestModels.QWEN3);
        try {
            PreparedDataset d = DatasetPipeline.prepare(spec, new TrainingSpec(), qwen, file, null, 0, 1);
            assertThat(d.train()).isNotEmpty();
            net.jqwik.api.statistics.Statistics.collect("prepared");
        } catch (DatasetException e) {
            net.jqwik.api.statistics.Statistics.collect(e.problem().replaceAll("[0-9'\"\\[].*", ""));
            assertThat(e.location()).as("located: " + e.getMessage()).isNotNull();
            assertThat(e.location().file()).isEqualTo(file.toString());
            assertThat(e.hint()).as(e.getMessage()).isNotBlank();
        }
    }

    private static Path write(Setup setup, byte[] record) {
        try {
            Path file = Files.createTempFile(dir, "records-", setup.jsonArray() ? ".json" : ".jsonl");
            byte[] valid = SEEDS.get(setup.seed()).getBytes(StandardCharsets.UTF_8);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            if (setup.jsonArray()) {
                out.write('[');
            }
            if (setup.withValidRecord()) {
                out.write(valid);
                out.write(setup.jsonArray() ? ',' : '\n');
            }
            out.write(record);
            if (setup.jsonArray()) {
                out.write(']');
            }
            Files.write(file, out.toByteArray());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
