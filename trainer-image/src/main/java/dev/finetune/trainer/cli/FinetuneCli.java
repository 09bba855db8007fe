package dev.finetune.trainer.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.trainer.checkpoint.MergedModelWriter;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.generate.TextGenerator;
import dev.finetune.trainer.launch.ChildCommand;
import dev.finetune.trainer.launch.LaunchPlan;
import dev.finetune.trainer.launch.Launcher;
import dev.finetune.trainer.launch.LauncherWatch;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.model.WeightStore;
import dev.finetune.trainer.run.FineTuneRun;
import dev.finetune.trainer.run.TerminationLog;
import dev.finetune.trainer.script.Kernels;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code finetune}: the trainer's command line and the container entrypoint.
 * With no arguments and {@code FINETUNE_CONFIG} set (as in a worker pod) it runs that config.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "finetune 0.1.0",
        description = "LoRA fine-tuning of Llama / Qwen / Mistral models in Java (DJL + libtorch).",
        subcommands = {FinetuneCli.Run.class, CheckDataCommand.class, FinetuneCli.Generate.class, FinetuneCli.Merge.class,
                FinetuneCli.Inspect.class, FinetuneCli.QuickstartAssetsCommand.class, ImportGgufCommand.class, ExportGgufCommand.class,
                InitCommand.class, PushCommand.class, PullCommand.class})
public final class FinetuneCli implements Callable<Integer> {

    public static void main(String[] args) {
        if (args.length == 0 && System.getenv(TrainerConfigs.CONFIG_FILE_ENV) != null) {
            args = new String[] {"run", "--config", System.getenv(TrainerConfigs.CONFIG_FILE_ENV)};
        }
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line with its exit codes: a wrong option or argument exits 64 (sysexits' EX_USAGE) with the
     * command's name and a pointer to its --help; an exception is classified by {@link CliFailures}.
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new FinetuneCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            int code = CliFailures.report(e, cmd.getCommandSpec().qualifiedName(), cmd.getErr());
            cmd.getErr().flush();
            return code;
        });
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            cmd.getErr().println(name + ": usage: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, cmd.getErr());
            cmd.getErr().println("hint: " + name + " --help lists the options");
            cmd.getErr().flush();
            return CliException.USAGE;
        });
        return cli;
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    @Command(name = "run", description = {"Runs a FineTuneJob YAML on this machine (the same file you kubectl apply),",
            "or a trainer config JSON (--config, what the operator hands a worker)."})
    static final class Run implements Callable<Integer> {

        /**
         * Time a run gets to checkpoint after SIGTERM when {@link #GRACE_ENV} is unset: the operator's default
         * terminationGracePeriodSeconds. A launcher gives its ranks 5 s less, so that it can still publish the
         * termination message before the kubelet kills the container.
         */
        static final int SHUTDOWN_GRACE_SECONDS = 120;
        /** Set by the operator to the pod's terminationGracePeriodSeconds, so the trainer waits as long as the kubelet. */
        static final String GRACE_ENV = "FINETUNE_TERMINATION_GRACE_SECONDS";

        /** The SIGTERM grace of this process: {@link #GRACE_ENV}, else {@link #SHUTDOWN_GRACE_SECONDS}. */
        static int shutdownGraceSeconds(Map<String, String> env) {
            String value = env.get(GRACE_ENV);
            if (value == null || value.isBlank()) {
                return SHUTDOWN_GRACE_SECONDS;
            }
            try {
                int seconds = Integer.parseInt(value.trim());
                if (seconds >= 10) {
                    return seconds;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new IllegalArgumentException(GRACE_ENV + "=" + value + " is not a number of seconds >= 10; set it "
                    + "to the pod's terminationGracePeriodSeconds (the operator's finetune.worker.termination-grace-period-seconds)");
        }
        /** After one rank fails, how long the others get to exit before SIGKILL (torchrun's default too). */
        static final Duration SIBLING_STOP_TIMEOUT = Duration.ofSeconds(30);

        @CommandLine.Mixin
        JobOptions jobOptions;

        @Option(names = "--resume", paramLabel = "latest|none|checkpoints/checkpoint-N", defaultValue = "latest",
                description = "resume from the newest checkpoint in the output dir (default), none, or a given one")
        String resume;

        @Option(names = "--dry-run", description = {"check everything a run needs without training: the job, the paths, "
                + "config.json and the safetensors headers (weights not loaded), the whole dataset read and tokenized "
                + "(prints the dataset report), and that the output directory is writable"})
        boolean dryRun;

        @Option(names = "--nproc", paramLabel = "N", description = {"training processes on this machine, data parallel "
                + "(default 1): a TCP all-reduce on CPU, NCCL when the job asks for GPUs (resources.gpus > 0)"})
        Integer nproc;

        @Override
        public Integer call() throws IOException {
            PrintStream out = System.out;
            if (nproc != null && nproc < 1) {
                throw CliException.usage("--nproc " + nproc + ": must be at least 1", null);
            }
            if (nproc != null && jobOptions.configFile != null) {
                throw CliException.usage("--nproc goes with JOB.yaml", "with --config the trainer config's "
                        + "distributed.processesPerWorker says how many processes to start");
            }
            if (nproc != null && nproc > 1 && LaunchPlan.isRankProcess(System.getenv())) {
                throw CliException.usage(LaunchPlan.LOCAL_RANK + " is set in the environment, which marks a process a "
                        + "launcher started", "unset it to start --nproc " + nproc + " processes");
            }
            if (resume.isBlank()) {
                // an empty value (often an unset shell variable) must not mean "none": that would set the earlier run aside
                throw CliException.usage("--resume is empty", "use latest (the default), none (start over), or "
                        + "checkpoints/checkpoint-N");
            }
            TrainerConfig config = jobOptions.forRun(resume.equals("none") ? null : resume);
            // --resume none over an earlier run: the run moves it to previous-runs/ (RunLineage), never mixes them
            if (nproc != null && nproc > 1) {
                checkCpuRanks(nproc, config, Runtime.getRuntime().availableProcessors());
                config = withLocalProcesses(config, nproc);
            }
            Preflight.paths(config);
            Preflight.outputWritable(Path.of(config.paths().outputDir()));
            Preflight.resumeCheckpoint(config);
            if (dryRun) {
                out.println("model: " + config.paths().modelDir() + ": " + Preflight.model(Path.of(config.paths().modelDir())));
                out.println(DatasetReportRenderer.render(Preflight.dataset(config).report()));
                Preflight.lineage(config).ifPresent(out::println);
                out.println("ok: " + jobOptions.source() + " is ready to run: model " + config.paths().modelDir()
                        + ", dataset " + config.paths().datasetPath() + ", output " + config.paths().outputDir()
                        + " (writable); nothing was trained (--dry-run)");
                return 0;
            }
            // a local run of a YAML job holds the output directory's lock; --config runs are the operator's (and ranks')
            try (OutputLock lock = jobOptions.configFile == null ? OutputLock.acquire(Path.of(config.paths().outputDir())) : null) {
                if (LaunchPlan.needsLauncher(config.distributed(), System.getenv())) {
                    return launch(config);
                }
                if (LaunchPlan.isRankProcess(System.getenv())) {
                    LauncherWatch.stopWhenLauncherExits();
                }
                FineTuneRun run = new FineTuneRun(config, out);
                run.stopOnShutdown(shutdownGraceSeconds(System.getenv()));
                return run.execute().exitCode();
            }
        }

        /**
         * CPU ranks beyond the cores only share them (each rank gets OMP_NUM_THREADS = cores / N, at least 1) while each
         * holds its own JVM and copy of the model: a mistyped --nproc 100 started 100 JVMs and exhausted the machine.
         * GPU jobs are not judged here: the GPUs are counted by the ranks that bind them.
         */
        static void checkCpuRanks(int nproc, TrainerConfig config, int cores) {
            var resources = config.spec().getResources();
            boolean cpu = resources == null || resources.getGpus() == 0;
            if (cpu && nproc > cores) {
                throw CliException.usage("--nproc " + nproc + ": more CPU ranks than this machine's " + cores + " CPU cores "
                        + "(each rank is a process with its own copy of the model)", "use --nproc " + cores + " or fewer");
            }
        }

        /**
         * Starts the worker's processesPerWorker ranks (child JVMs running this config) and supervises them.
         * In a pod they read the mounted config; a local --nproc run hands them its config in a temp file.
         */
        private int launch(TrainerConfig config) throws IOException {
            LaunchPlan plan = LaunchPlan.derive(config.distributed(), System.getenv(), Runtime.getRuntime().availableProcessors());
            Path file = jobOptions.configFile;
            if (file == null) {
                file = Files.createTempFile("finetune-config-", ".json");
                Files.writeString(file, TrainerJson.write(config));
            }
            try {
                List<String> args = List.of("run", "--config", file.toAbsolutePath().toString());
                Launcher launcher = new Launcher(plan, rank -> ChildCommand.sameJvm(FinetuneCli.class, args), System.out,
                        System.err, new Launcher.Settings(SIBLING_STOP_TIMEOUT, Duration.ofSeconds(shutdownGraceSeconds(System.getenv()) - 5),
                                TerminationLog.path(), config.attempt()));
                Thread hook = launcher.shutdownHook();
                Runtime.getRuntime().addShutdownHook(hook);
                try {
                    return launcher.run();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is running: it forwards the SIGTERM and ends the JVM
                    }
                }
            } finally {
                if (jobOptions.configFile == null) {
                    Files.deleteIfExists(file);
                }
            }
        }

        /**
         * A local run's config as one worker with {@code nproc} ranks meeting on a free local port (two
         * runs on one machine must not collide on the default port).
         */
        static TrainerConfig withLocalProcesses(TrainerConfig config, int nproc) throws IOException {
            var resources = config.spec().getResources();
            CollectiveBackend backend = CollectiveBackend.forGpus(resources == null ? 0 : resources.getGpus());
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            return new TrainerConfig(config.schemaVersion(), config.job(), config.attempt(), config.paths(), config.spec(),
                    new TrainerConfig.Distributed(1, nproc, backend, "127.0.0.1", port), config.resumeFrom(), config.progress());
        }
    }

    /** Options shared by the commands that load a model. */
    static class ModelOptions {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
        Path model;

        @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory")
        Path adapter;

        @Option(names = "--precision", defaultValue = "fp32", description = "fp32, bf16 or fp16 (default ${DEFAULT-VALUE})")
        String precision;

        DataType dtype() {
            try {
                return dev.finetune.trainer.model.ComputeDtype.parse(precision);
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--precision " + precision + ": must be fp32, bf16 or fp16", null);
            }
        }

        /** The model directory and the adapter (when given) are what they claim to be, before anything loads. */
        void checkPaths() {
            if (!Files.isDirectory(model)) {
                throw CliException.usage("--model " + model + " does not exist", "give a Hugging Face model directory");
            }
            if (!Files.isRegularFile(model.resolve("config.json"))) {
                throw CliException.of(FailureReason.BAD_MODEL, "--model " + model + " has no config.json",
                        FailureReason.BAD_MODEL.hint());
            }
            if (adapter != null && !Files.isRegularFile(adapter.resolve(PeftAdapter.CONFIG))) {
                throw CliException.usage("--adapter " + adapter + (Files.isDirectory(adapter) ? " has no " + PeftAdapter.CONFIG
                        : " does not exist"), "give a PEFT adapter directory (a run's adapter/, adapter-best/ or epochs/epoch-N/)");
            }
        }
    }

    @Command(name = "generate", description = "Generates text from a base model, optionally with a LoRA adapter.")
    static final class Generate implements Callable<Integer> {
        @CommandLine.Mixin
        ModelOptions model = new ModelOptions();

        @Option(names = "--prompt", required = true, description = "the prompt")
        String prompt;

        @Option(names = "--chat", description = "wrap the prompt as a user turn with the model's chat template")
        boolean chat;

        @Option(names = "--max-new-tokens", defaultValue = "64", description = "at least 1 (default ${DEFAULT-VALUE})")
        int maxNewTokens;

        @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default), else > 0")
        double temperature;

        @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens; 0 = off (default)")
        int topK;

        @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling, in (0, 1]; 1 = off (default)")
        double topP;

        @Option(names = "--seed", defaultValue = "0")
        long seed;

        /** Every sampling option in its range, each refused by name (HF's GenerationConfig refuses the same). */
        void checkOptions() {
            if (prompt.isBlank() && !chat) {
                throw CliException.usage("--prompt is empty: generation continues a text, and there is none",
                        "give the text to continue, e.g. --prompt \"1 2 3\" (with --chat an empty user turn is allowed)");
            }
            if (maxNewTokens < 1) {
                throw CliException.usage("--max-new-tokens " + maxNewTokens + ": must be at least 1", null);
            }
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw CliException.usage("--temperature " + temperature + ": must be 0 (greedy) or a positive number", null);
            }
            if (topK < 0) {
                throw CliException.usage("--top-k " + topK + ": must be 0 (off) or a positive number of tokens", null);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw CliException.usage("--top-p " + topP + ": must be in (0, 1]; 1 turns it off", null);
            }
            model.dtype();
            model.checkPaths();
        }

        /**
         * The prompt and the new tokens must fit the model's context (max_position_embeddings): past it the rotary
         * positions were never trained, and the text degrades into noise with no other sign of why.
         */
        static void checkContext(int promptTokens, int maxNewTokens, int context) {
            if (promptTokens >= context) {
                throw CliException.usage("the prompt is " + promptTokens + " tokens, and the model's context is " + context
                        + " positions (max_position_embeddings in config.json)", "shorten the prompt");
            }
            if ((long) promptTokens + maxNewTokens > context) {
                throw CliException.usage("--max-new-tokens " + maxNewTokens + ": the prompt's " + promptTokens + " tokens and "
                        + maxNewTokens + " new ones exceed the model's context of " + context
                        + " positions (max_position_embeddings in config.json)", "use --max-new-tokens "
                        + (context - promptTokens) + " or fewer");
            }
        }

        @Override
        public Integer call() {
            checkOptions();
            try (NDManager manager = NDManager.newBaseManager();
                    Kernels kernels = Kernels.load(manager);
                    DecoderModel base = DecoderModel.load(model.model, model.dtype(), manager, kernels);
                    ModelTokenizer tokenizer = ModelTokenizer.load(model.model)) {
                LoraModel lora = model.adapter == null ? null : PeftAdapter.attach(base, model.adapter);
                String text = chat ? ChatPrompt.render(tokenizer, prompt) : prompt;
                int[] promptIds = tokenizer.encode(text).ids();
                checkContext(promptIds.length, maxNewTokens, base.config().maxPositionEmbeddings());
                System.out.println(new TextGenerator(base, tokenizer).continuation(promptIds,
                        new Generator.Options(maxNewTokens, temperature, topK, topP, seed)));
                if (lora != null) {
                    lora.close();
                }
            }
            return 0;
        }
    }

    @Command(name = "merge", description = "Folds a LoRA adapter into its base model and writes a Hugging Face model directory.")
    static final class Merge implements Callable<Integer> {
        @CommandLine.Mixin
        ModelOptions model = new ModelOptions();

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "a new or empty directory (or an earlier merge's): never the model's or the adapter's")
        Path out;

        @Override
        public Integer call() throws IOException {
            if (model.adapter == null) {
                throw CliException.usage("merge needs --adapter DIR", "give the PEFT adapter to fold into --model");
            }
            model.dtype();
            model.checkPaths();
            MergeTarget.check(model.model, model.adapter, out);
            try (NDManager manager = NDManager.newBaseManager();
                    Kernels kernels = Kernels.load(manager);
                    DecoderModel base = DecoderModel.load(model.model, DataType.FLOAT32, manager, kernels)) {
                try (LoraModel lora = PeftAdapter.attach(base, model.adapter)) {
                    MergedModelWriter.write(lora, out);
                }
            }
            System.out.println("merged model written to " + out);
            return 0;
        }
    }

    @Command(name = "inspect", description = "Summarises a model directory, an adapter, or a run's output directory.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(paramLabel = "DIR")
        Path dir;

        @Override
        public Integer call() throws IOException {
            PrintStream out = System.out;
            if (!Files.isDirectory(dir)) {
                throw CliException.usage(dir + (Files.exists(dir) ? " is a file" : " does not exist"),
                        "give a model directory, an adapter directory or a run's output directory");
            }
            if (Files.isRegularFile(dir.resolve(PeftAdapter.CONFIG))) {
                PeftAdapter.Loaded a = PeftAdapter.read(dir);
                long params = a.tensors().values().stream().mapToLong(v -> v.length).sum();
                out.printf(Locale.ROOT, "PEFT LoRA adapter %s%n  base model: %s%n  r=%d alpha=%s rslora=%s targets=%s%n"
                                + "  tensors: %d, parameters: %,d%n", dir, a.config().path("base_model_name_or_path").asText(),
                        a.rank(), a.alpha(), a.rslora(), a.targetModules(), a.tensors().size(), params);
                double bNorm = 0;
                for (Map.Entry<String, float[]> e : a.tensors().entrySet()) {
                    if (e.getKey().endsWith("lora_B.weight")) {
                        for (float v : e.getValue()) {
                            bNorm += v * v;
                        }
                    }
                }
                out.printf(Locale.ROOT, "  |lora_B| = %.6g%s%n", Math.sqrt(bNorm), bNorm == 0 ? " (all zero: the adapter does nothing)" : "");
                return 0;
            }
            if (Files.isRegularFile(dir.resolve("config.json"))) {
                ModelConfig c = ModelConfig.read(dir);
                out.printf(Locale.ROOT, "model %s: %s%n  layers %d, hidden %d, intermediate %d, heads %d (kv %d), head dim %d%n"
                                + "  vocab %d, rope theta %s%s, tied embeddings %s, dtype %s%n", dir, c.modelType(), c.numLayers(),
                        c.hiddenSize(), c.intermediateSize(), c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(),
                        c.ropeTheta(), c.ropeScaling() == null ? "" : " (" + c.ropeScaling().type() + " x" + c.ropeScaling().factor() + ")",
                        c.tieWordEmbeddings(), c.torchDtype());
                try (WeightStore store = WeightStore.open(dir)) {
                    long params = 0;
                    for (String name : store.names()) {
                        params += store.entry(name).elements();
                    }
                    out.printf(Locale.ROOT, "  tensors %d, parameters %,d%n", store.names().size(), params);
                }
                return 0;
            }
            if (RunSummary.isRunOutput(dir)) {
                RunSummary.print(dir, out);
                return 0;
            }
            throw CliException.usage(dir + " is neither a model directory (config.json), an adapter ("
                    + PeftAdapter.CONFIG + ") nor a run output (manifest.json, progress.json or checkpoints/)", null);
        }
    }

    @Command(name = "quickstart-assets", description = {"Creates the quickstart's synthetic model and dataset (no download).",
            "The model is random-initialised: it shows the mechanics, not a useful model."})
    static final class QuickstartAssetsCommand implements Callable<Integer> {
        @Option(names = "--models", required = true, paramLabel = "DIR", description = "writes DIR/quickstart-llama")
        Path models;

        @Option(names = "--data", required = true, paramLabel = "DIR", description = "writes DIR/quickstart/train.jsonl")
        Path data;

        @Option(names = "--records", defaultValue = "400")
        int records;

        @Override
        public Integer call() throws IOException {
            Path model = dev.finetune.trainer.quickstart.QuickstartAssets.writeModel(models.resolve("quickstart-llama"),
                    dev.finetune.trainer.quickstart.QuickstartAssets.Shape.quickstart(), 1234);
            Path file = dev.finetune.trainer.quickstart.QuickstartAssets.writeDataset(
                    data.resolve("quickstart").resolve("train.jsonl"), records, 42);
            System.out.println("synthetic model: " + model);
            System.out.println("dataset: " + file);
            return 0;
        }
    }
}
