package dev.finetune.trainer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.testing.CliVolumes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A model directory's JSON files mutated: config.json (Llama and Qwen3 shapes) must parse or fail with a
 * {@link ModelFormatException} naming config.json; tokenizer_config.json and generation_config.json, read with
 * the model's chat template over a small dataset, must give a dataset or a located error (BAD_MODEL naming the
 * model directory, or BAD_DATA naming a file). Never another exception.
 */
class ModelFilesFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path root;
    private static Path model;
    private static Path data;

    static final List<String> CONFIGS = List.of(
            "{\"model_type\": \"llama\", \"vocab_size\": 80, \"hidden_size\": 64, \"intermediate_size\": 128,"
                    + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                    + " \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"tie_word_embeddings\": false, \"eos_token_id\": 3,"
                    + " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                    + " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}, \"torch_dtype\": \"bfloat16\"}",
            "{\"model_type\": \"qwen3\", \"vocab_size\": 151936, \"hidden_size\": 1024, \"intermediate_size\": 3072,"
                    + " \"num_hidden_layers\": 28, \"num_attention_heads\": 16, \"num_key_value_heads\": 8, \"head_dim\": 128,"
                    + " \"sliding_window\": 4096, \"use_sliding_window\": true, \"max_window_layers\": 28,"
                    + " \"layer_types\": [\"full_attention\", \"sliding_attention\"], \"eos_token_id\": [151645, 151643],"
                    + " \"bos_token_id\": 151643, \"tie_word_embeddings\": true}");

    @BeforeContainer
    static void writeModel() throws IOException {
        root = Files.createTempDirectory("model-fuzz");
        model = CliVolumes.writeModel(root.resolve("original"));
        data = QuickstartAssets.writeDataset(root.resolve("train.jsonl"), 6, 3);
    }

    @AfterContainer
    static void deleteDir() throws IOException {
        ScratchDirs.delete(root);
    }

    @Property(tries = 1500)
    void mutatedConfigJsonParsesOrNamesTheFile(@ForAll(supplier = Mutation.Edits.class) List<Mutation> mutations,
            @ForAll boolean qwen) throws IOException {
        JsonNode config = Mutation.applyAll(JSON.readTree(CONFIGS.get(qwen ? 1 : 0)), mutations);
        try {
            ModelConfig c = ModelConfig.parse(config, "/models/m/config.json");
            assertThat(c.headDim()).isPositive();
            assertThat(c.numKvHeads()).isPositive();
            for (int layer = 0; layer < c.numLayers(); layer++) {
                c.slidingLayer(layer);
            }
        } catch (ModelFormatException e) {
            assertThat(e.getMessage()).startsWith("/models/m/config.json: ");
        }
    }

    @Property(tries = 250)
    void mutatedTokenizerFilesGiveADatasetOrALocatedError(@ForAll(supplier = Mutation.Edits.class) List<Mutation> mutations,
            @ForAll boolean generationConfig) throws IOException {
        Path dir = Files.createTempDirectory(root, "m-");
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            Files.copy(model.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        String name = generationConfig ? "generation_config.json" : "tokenizer_config.json";
        Files.write(dir.resolve(name), JSON.writeValueAsBytes(Mutation.applyAll(JSON.readTree(dir.resolve(name).toFile()),
                mutations)));
        DatasetSpec spec = new DatasetSpec();
        spec.setTemplate("model");
        spec.setEvalSplit(0.0);
        spec.setMaxSeqLength(64);
        try {
            try (ModelTokenizer tokenizer = ModelTokenizer.load(dir)) {
                DatasetPipeline.prepare(spec, new TrainingSpec(), tokenizer, data, null, 0, 1);
            }
        } catch (ModelFormatException e) {
            assertThat(e.getMessage()).contains(dir.toString());
        } catch (DatasetException e) {
            assertThat(e.location()).as(e.getMessage()).isNotNull();
            assertThat(e.hint()).isNotBlank();
        }
    }
}
