package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the CLI tests share: the job YAML, running the CLI in-process, and the checks of a finished run. */
public final class CliHarness {

    private CliHarness() {
    }

    /** The directories a job's PVC claims map to (models, data, outputs) under one scratch directory. */
    record Volumes(Path models, Path data, Path outputs) {
        static Volumes under(Path dir) {
            return new Volumes(dir.resolve("models"), dir.resolve("data"), dir.resolve("outputs"));
        }
    }

    static String job(int epochs, String extraTraining) {
        return """
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: cli-test
                spec:
                  model:
                    pvc: {claimName: models, path: tiny-qwen3}
                    name: tiny-qwen3
                  dataset:
                    pvc: {claimName: data, path: train.jsonl}
                    format: alpaca
                    evalSplit: 0.2
                    maxSeqLength: 64
                  lora:
                    rank: 4
                    alpha: 8
                    dropout: 0.0
                    targetModules: [all-linear]
                  training:
                    epochs: %d
                    learningRate: 1.0e-2
                    warmupSteps: 1
                    batchSize: 4
                    precision: fp32
                    logEverySteps: 2
                    samplePrompts: 1
                    sampleMaxNewTokens: 4
                %s
                  resources:
                    gpus: 0
                  output:
                    pvc: {claimName: outputs, path: runs/cli-test}
                    keepCheckpoints: 1
                    merge: true
                """.formatted(epochs, extraTraining);
    }

    public record Outcome(int code, String out, String err) {}

    public static Outcome cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            int code = FinetuneCli.commandLine().execute(args);
            return new Outcome(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /**
     * Runs {@code job.yaml} (2 epochs) with the three volumes and checks everything a run writes: adapters
     * per epoch and final, one retained checkpoint, merged model, report, manifest (perplexity = exp of eval
     * loss), progress.json, and what {@code finetune inspect} says of the adapter and the run.
     *
     * @return the run directory
     */
    static Path runAndCheckOutputs(Path tmp, Volumes volumes) throws Exception {
        return runAndCheckOutputs(tmp, volumes.models(), volumes.data(), volumes.outputs());
    }

    static Path runAndCheckOutputs(Path tmp, Path models, Path data, Path outputs) throws Exception {
        Path yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, job(2, ""));
        Outcome o = cli("run", yaml.toString(), "--volume", "models=" + models, "--volume", "data=" + data,
                "--volume", "outputs=" + outputs);
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(0);
        Path run = outputs.resolve("runs/cli-test");
        assertThat(o.out()).contains("trainable params:").contains("epoch").contains("eval loss").contains("adapter: " + run.resolve("adapter"));
        PeftAdapter.Loaded adapter = PeftAdapter.read(run.resolve("adapter"));
        assertThat(adapter.rank()).isEqualTo(4);
        assertThat(adapter.tensors()).containsKey("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
        assertThat(run.resolve("epochs/epoch-1/adapter_model.safetensors")).exists();
        assertThat(run.resolve("epochs/epoch-2/adapter_model.safetensors")).exists();
        assertThat(TrainingCheckpoint.list(run)).hasSize(1);
        assertThat(run.resolve("merged/model.safetensors")).exists();
        assertThat(run.resolve("merged/tokenizer.json")).exists();
        assertThat(Files.readString(run.resolve("report.html"))).contains("<svg").contains("Eval perplexity");
        JsonNode manifest = new ObjectMapper().readTree(run.resolve("manifest.json").toFile());
        assertThat(manifest.path("dataset").path("sha256").asText()).hasSize(64);
        // the job leaves dataset.packing unset: the manifest records what the trainer decided
        assertThat(manifest.path("spec").path("dataset").has("packing")).isFalse();
        assertThat(manifest.path("dataset").path("packed").isBoolean()).isTrue();
        assertThat(manifest.path("dataset").path("packing").asText()).startsWith("dataset.packing unset, decided: ");
        assertThat(manifest.path("history")).hasSize(2);
        double first = manifest.path("history").get(0).path("evalLoss").asDouble();
        double ppl = manifest.path("history").get(0).path("perplexity").asDouble();
        assertThat(ppl).isCloseTo(Math.exp(first), org.assertj.core.api.Assertions.within(1e-9 * ppl));
        JsonNode progress = new ObjectMapper().readTree(run.resolve("progress.json").toFile());
        assertThat(progress.path("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(progress.path("outputs").path("adapter").asText()).isEqualTo("adapter");
        assertThat(progress.path("history")).hasSize(2);

        Outcome inspect = cli("inspect", run.resolve("adapter").toString());
        assertThat(inspect.code()).isEqualTo(0);
        assertThat(inspect.out()).contains("r=4").contains("tensors: 14");
        Outcome inspectRun = cli("inspect", run.toString());
        assertThat(inspectRun.out()).contains("checkpoint-").contains("best eval loss").contains("ended: succeeded at step")
                .contains(": step " + TrainingCheckpoint.readState(TrainingCheckpoint.list(run).getFirst()).state().globalStep())
                .contains("end of epoch 2 of 2").doesNotContain("epoch 3");
        return run;
    }
}
