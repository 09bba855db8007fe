package dev.finetune.trainer.cli;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import dev.finetune.trainer.testing.CliVolumes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes a new user made that used to end badly: silently (a setting or a run's training dropped, the earlier run
 * set aside) or misleadingly. Each now ends in a user-error exit naming the key, option or file, and how to fix it.
 */
class UserMistakesTest {

    @TempDir
    static Path tmp;

    static CliVolumes volumes;
    static Path yaml;

    @BeforeAll
    static void setUp() throws Exception {
        volumes = CliVolumes.write(tmp, 40);
        yaml = tmp.resolve("job.yaml");
        Files.writeString(yaml, CliHarness.job(1, ""));
    }

    static Outcome dryRun(Path job, String... volumeArgs) {
        List<String> args = new ArrayList<>(List.of("run", "--dry-run", job.toString()));
        args.addAll(volumeArgs.length > 0 ? List.of(volumeArgs) : volumes.volumeArgs(tmp.resolve("outputs")));
        return cli(args.toArray(String[]::new));
    }

    /** Not a mistake at all: one PVC holding both the model and the dataset ended in "BAD_CONFIG: duplicate element: shared". */
    @Test
    void theModelAndTheDatasetMayShareOneClaim() throws Exception {
        Path shared = tmp.resolve("shared.yaml");
        Files.writeString(shared, CliHarness.job(1, "")
                .replace("{claimName: models, path: tiny-qwen3}", "{claimName: shared, path: models/tiny-qwen3}")
                .replace("{claimName: data, path: train.jsonl}", "{claimName: shared, path: data/train.jsonl}"));

        Outcome dry = dryRun(shared, "--volume", "shared=" + tmp, "--volume", "outputs=" + tmp.resolve("shared-outputs"));
        Outcome check = cli("check-data", shared.toString(), "--volume", "shared=" + tmp);

        assertThat(dry.code()).as(dry.err()).isZero();
        assertThat(check.code()).as(check.err()).isZero();
        assertThat(check.out()).contains("records          40 read");
    }

    /** YAML keeps the last of two equal keys: a second `training:` block silently dropped every setting of the first. */
    @Test
    void aKeyGivenTwiceIsRefusedWithItsLine() throws Exception {
        Path twice = tmp.resolve("twice.yaml");
        Files.writeString(twice, CliHarness.job(1, "") + "  training:\n    epochs: 2\n");
        int line = (int) CliHarness.job(1, "").lines().count() + 1;

        Outcome o = dryRun(twice);

        assertThat(o.code()).as(o.err()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(o.err()).contains("finetune run: BAD_CONFIG: " + twice + ":" + line + ":")
                .contains("key 'training' appears twice in the same mapping")
                .contains("hint: keep one of the two");
    }

    /** A file with two jobs trained the first and ignored the second; kubectl apply would have created both. */
    @Test
    void aSecondDocumentIsRefusedAndATrailingSeparatorIsNot() throws Exception {
        Path two = tmp.resolve("two.yaml");
        String job = CliHarness.job(1, "");
        Files.writeString(two, job + "---\n" + job.replace("name: cli-test", "name: second"));

        Outcome o = dryRun(two);

        assertThat(o.code()).as(o.err()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(o.err()).contains(two + ":" + (job.lines().count() + 2) + ": a second YAML document (after ---)")
                .contains("hint: put each FineTuneJob in its own file");
        Path trailing = tmp.resolve("trailing.yaml");
        Files.writeString(trailing, "---\n" + job + "---\n");
        Outcome ok = dryRun(trailing);
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    /** `--resume "$CKPT"` with the variable unset meant `none`: the finished run was moved aside and trained again. */
    @Test
    void anEmptyResumeIsAUsageErrorAndMovesNothing() throws Exception {
        Path outputs = tmp.resolve("resume-empty");
        Files.createDirectories(outputs.resolve("runs/cli-test/checkpoints"));
        List<String> args = new ArrayList<>(List.of("run", yaml.toString(), "--resume", ""));
        args.addAll(volumes.volumeArgs(outputs));

        Outcome o = cli(args.toArray(String[]::new));

        assertThat(o.code()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune run: usage: --resume is empty")
                .contains("use latest (the default), none (start over), or checkpoints/checkpoint-N");
        assertThat(outputs.resolve("runs/cli-test/previous-runs")).doesNotExist();
    }

    @Test
    void volumeOptionsAreCheckedOneByOne() {
        Map<String, String> cases = Map.of(
                "models", "--volume models: expected CLAIM=DIR",
                "=" + volumes.models(), "the claim name before '=' is empty",
                "models=", "--volume models=: the directory after '=' is empty");
        cases.forEach((option, message) -> {
            Outcome o = cli("run", "--dry-run", yaml.toString(), "--volume", option);
            assertThat(o.code()).as(option + ": " + o.err()).isEqualTo(CliException.USAGE);
            assertThat(o.err()).as(option).contains("finetune run: usage: ").contains(message);
        });
    }

    /** The second of two mappings of one claim silently won, and the error then named a directory never meant. */
    @Test
    void aClaimMappedTwiceIsRefusedNamingBoth() {
        Outcome o = cli("check-data", yaml.toString(), "--volume", "models=" + volumes.models(), "--volume",
                "models=" + volumes.data(), "--volume", "data=" + volumes.data());

        assertThat(o.code()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune check-data: usage: --volume models is given twice (models=" + volumes.models()
                + " and models=" + volumes.data() + ")").contains("hint: map each claim to one directory");
        Outcome same = cli("check-data", yaml.toString(), "--volume", "models=" + volumes.models(), "--volume",
                "models=" + volumes.models(), "--volume", "data=" + volumes.data());
        assertThat(same.code()).as(same.err()).isZero();
    }

    /** zsh and sh pass `models=~/models` on with its ~, which became a directory named ~ under the working directory. */
    @Test
    void aTildeDirectoryIsInTheHomeDirectory() {
        Path home = Path.of("/home/someone");
        Map<String, Path> mapped = VolumeMappings.parse(List.of("models=~/models", "data=~", "outputs=./~/out",
                "other=~user/x"), home);
        assertThat(mapped).containsExactly(Map.entry("models", home.resolve("models")), Map.entry("data", home),
                Map.entry("outputs", Path.of("./~/out")), Map.entry("other", Path.of("~user/x")));
        // bash takes ~ from HOME (Java's user.home ignores it)
        assertThat(VolumeMappings.home("/home/someone")).isEqualTo(home);
        assertThat(VolumeMappings.home(null)).isEqualTo(Path.of(System.getProperty("user.home")));
        assertThatThrownBy(() -> VolumeMappings.parse(List.of("models=~/a", "models=" + home + "/b"), home))
                .isInstanceOf(CliException.class).hasMessageContaining("--volume models is given twice");
    }

    /** gpus: 1 on a machine without a usable GPU trained on the CPU without a word: ten times slower, and no reason given. */
    @Test
    void aJobAskingForAGpuThatTrainsOnTheCpuSaysSo() throws Exception {
        boolean trainsOnTheCpu = ai.djl.engine.Engine.getInstance().getGpuCount() == 0;
        Outcome o = run("gpu", oneEpochWithoutMerge().replace("gpus: 0", "gpus: 1"));

        assertThat(o.code()).as(o.err()).isZero();
        if (trainsOnTheCpu) {
            assertThat(o.err()).contains("warning: spec.resources.gpus is 1, but libtorch sees no GPU here")
                    .contains("set resources.gpus: 0 to train on the CPU on purpose");
        } else {
            assertThat(o.err()).doesNotContain("libtorch sees no GPU");
        }
        Outcome cpu = cli("run", yaml.toString(), "--volume", "models=" + volumes.models(), "--volume", "data=" + volumes.data(),
                "--volume", "outputs=" + tmp.resolve("cpu-outputs"));
        assertThat(cpu.code()).as(cpu.err()).isZero();
        assertThat(cpu.err()).doesNotContain("resources.gpus");
    }

    /**
     * The same command started in a second terminal resumed from the first run's checkpoint and then both wrote the
     * same checkpoints/, adapters and progress.json. (The lock is an OS file lock; here the "other run" is this JVM.)
     */
    @Test
    void aSecondRunIntoAnOutputDirectoryInUseIsRefusedAndWritesNothing() throws Exception {
        Path outputs = tmp.resolve("busy");
        Path run = outputs.resolve("runs/cli-test");
        List<String> args = new ArrayList<>(List.of("run", yaml.toString()));
        args.addAll(volumes.volumeArgs(outputs));
        try (OutputLock held = OutputLock.acquire(run)) {
            Outcome o = cli(args.toArray(String[]::new));

            assertThat(o.code()).as(o.err()).isEqualTo(FailureReason.OUTPUT_UNWRITABLE.exitCode());
            assertThat(o.err()).contains("finetune run: OUTPUT_UNWRITABLE: output directory " + run
                    + " is in use by another finetune run (it holds .finetune-lock)")
                    .contains("hint: wait for that run to end");
            try (var files = Files.list(run)) {
                assertThat(files.map(f -> f.getFileName().toString())).containsExactly(OutputLock.FILE);
            }
        }
        Outcome after = cli(args.toArray(String[]::new));
        assertThat(after.code()).as(after.err()).isZero();
    }

    /** --nproc 1000 (a typo) started a thousand JVMs, each with its own copy of the model, on a 2-core machine. */
    @Test
    void moreCpuRanksThanCoresIsAUsageError() {
        int cores = Runtime.getRuntime().availableProcessors();
        List<String> args = new ArrayList<>(List.of("run", yaml.toString(), "--nproc", Integer.toString(cores + 1)));
        args.addAll(volumes.volumeArgs(tmp.resolve("nproc-outputs")));

        Outcome o = cli(args.toArray(String[]::new));

        assertThat(o.code()).as(o.err()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune run: usage: --nproc " + (cores + 1) + ": more CPU ranks than this machine's "
                + cores + " CPU cores").contains("hint: use --nproc " + cores + " or fewer");
        assertThat(tmp.resolve("nproc-outputs")).doesNotExist();
    }

    /** An adapter whose tensors do not match its config said only "adapter tensor ... has 512 values, expected ...". */
    @Test
    void anAdapterThatDoesNotFitTheModelIsNamed() throws Exception {
        Path outputs = tmp.resolve("adapter-source");
        Outcome trained = run("adapter-source", oneEpochWithoutMerge());
        assertThat(trained.code()).as(trained.err()).isZero();
        Path edited = tmp.resolve("edited-adapter");
        Files.createDirectories(edited);
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            Files.copy(outputs.resolve("runs/cli-test/adapter").resolve(f), edited.resolve(f));
        }
        String config = Files.readString(edited.resolve("adapter_config.json"));
        assertThat(config).contains("\"r\" : 4");
        Files.writeString(edited.resolve("adapter_config.json"), config.replace("\"r\" : 4", "\"r\" : 2"));

        Outcome o = cli("merge", "--model", volumes.models().resolve(CliVolumes.MODEL).toString(), "--adapter", edited.toString(),
                "--out", tmp.resolve("merged-edited").toString());

        assertThat(o.code()).as(o.err()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(o.err()).contains("adapter " + edited + " does not fit this model: adapter tensor ")
                .contains("(r 2 in adapter_config.json); was it trained on another base model, or was its adapter_config.json edited?");
    }

    @Test
    void generateWithAnEmptyPromptNamesTheOption() {
        Path model = volumes.models().resolve(CliVolumes.MODEL);
        for (String prompt : List.of("", "  ")) {
            Outcome o = cli("generate", "--model", model.toString(), "--prompt", prompt);
            assertThat(o.code()).as("'" + prompt + "': " + o.err()).isEqualTo(CliException.USAGE);
            assertThat(o.err()).contains("finetune generate: usage: --prompt is empty").contains("hint: give the text to continue");
        }
    }

    /** --max-new-tokens past the model's context generated noise with no sign of why; the limit is named now. */
    @Test
    void generatingPastTheModelsContextNamesTheLimit() throws Exception {
        Path model = volumes.models().resolve(CliVolumes.MODEL);
        int context = TrainerJson.json().readTree(model.resolve("config.json").toFile()).path("max_position_embeddings").asInt();
        Outcome o = cli("generate", "--model", model.toString(), "--prompt", "1 2 3", "--max-new-tokens", Integer.toString(context));

        assertThat(o.code()).as(o.err()).isEqualTo(CliException.USAGE);
        assertThat(o.err()).contains("finetune generate: usage: --max-new-tokens " + context + ": the prompt's ")
                .contains("exceed the model's context of " + context + " positions (max_position_embeddings in config.json)")
                .containsPattern("hint: use --max-new-tokens [0-9]+ or fewer");
        Outcome fits = cli("generate", "--model", model.toString(), "--prompt", "1 2 3", "--max-new-tokens", "4");
        assertThat(fits.code()).as(fits.err()).isZero();
    }

    /**
     * A run of all-linear LoRA resumed with fewer target modules used to load the checkpoint's q_proj/v_proj adapters,
     * drop the rest without a word and train on (its eval loss jumped back up); the final adapter had lost them.
     */
    @Test
    void resumingWithFewerTargetModulesIsRefusedAndKeepsTheRun() throws Exception {
        Outcome first = run("narrowed", oneEpochWithoutMerge());
        assertThat(first.code()).as(first.err()).isZero();
        Path run = tmp.resolve("narrowed").resolve("runs/cli-test");
        byte[] adapter = Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors"));
        // more epochs, so the finished run continues, from its checkpoint, with narrower targets
        Outcome narrowed = run("narrowed", CliHarness.job(2, "").replace("merge: true", "merge: false")
                .replace("targetModules: [all-linear]", "targetModules: [q_proj, v_proj]"));

        assertThat(narrowed.code()).as(narrowed.out() + narrowed.err()).isEqualTo(FailureReason.BAD_CONFIG.exitCode());
        assertThat(narrowed.err()).contains("cannot resume from " + run.resolve("checkpoints"))
                .contains("that the job's LoRA settings no longer train (e.g. base_model.model.model.layers.0.")
                .contains("were lora.targetModules or lora.bias changed?")
                .contains("`finetune run --resume none` to start over");
        assertThat(Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors"))).isEqualTo(adapter);
    }

    static String oneEpochWithoutMerge() {
        return CliHarness.job(1, "").replace("merge: true", "merge: false");
    }

    /** {@code finetune run} of {@code yaml} written to NAME.yaml, into the output directory NAME, on the shared volumes. */
    static Outcome run(String name, String yaml) throws IOException {
        Path job = tmp.resolve(name + ".yaml");
        Files.writeString(job, yaml);
        List<String> args = new ArrayList<>(List.of("run", job.toString()));
        args.addAll(volumes.volumeArgs(tmp.resolve(name)));
        return cli(args.toArray(String[]::new));
    }
}
