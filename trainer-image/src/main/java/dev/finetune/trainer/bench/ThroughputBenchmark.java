package dev.finetune.trainer.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Training throughput of one configuration (run one per JVM, so peak RSS is this configuration's):
 * a random Llama of the given shape, LoRA r=16 on all linear layers, full-length rows whose every token
 * is a label, AdamW steps. Prints one JSON line: tokens/s over the timed steps and the process's peak
 * resident memory (VmHWM). Arguments are {@code key=value}: hidden, layers, heads, kvHeads,
 * intermediate, vocab, seq, batch, precision (fp32|bf16), checkpointing (true|false), steps, warmup.
 */
public final class ThroughputBenchmark {

    /** One configuration's figures: the JSON line printed (fields in this order). */
    record Result(String name, long parameters, long trainable, String precision, boolean checkpointing, int seq,
            int batch, int steps, double seconds, double tokensPerSecond, double peakRssMiB) {}

    /** The HF config.json of the benchmark's model (snake_case keys). */
    record LlamaConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
            String torchDtype) {}

    public static void main(String[] args) throws IOException {
        java.util.Map<String, String> a = new java.util.HashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            a.put(kv[0], kv[1]);
        }
        int hidden = Integer.parseInt(a.getOrDefault("hidden", "512"));
        int layers = Integer.parseInt(a.getOrDefault("layers", "8"));
        int heads = Integer.parseInt(a.getOrDefault("heads", "8"));
        int kvHeads = Integer.parseInt(a.getOrDefault("kvHeads", "8"));
        int intermediate = Integer.parseInt(a.getOrDefault("intermediate", "1376"));
        int vocab = Integer.parseInt(a.getOrDefault("vocab", "8000"));
        int seq = Integer.parseInt(a.getOrDefault("seq", "256"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "1"));
        String precision = a.getOrDefault("precision", "fp32");
        boolean checkpointing = Boolean.parseBoolean(a.getOrDefault("checkpointing", "false"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "4"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "1"));
        String name = a.getOrDefault("name", "llama-" + hidden + "x" + layers);

        Path dir = Files.createTempDirectory("finetune-bench-");
        writeModel(dir, hidden, layers, heads, kvHeads, intermediate, vocab);
        DataType dtype = dev.finetune.trainer.model.ComputeDtype.parse(precision);
        Random random = new Random(1);
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return warmup + steps;
            }

            @Override
            public Batch batch(int epoch, int index) {
                int[] ids = new int[batch * seq];
                int[] pos = new int[batch * seq];
                int[] segments = new int[batch * seq];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = random.nextInt(vocab);
                    pos[i] = i % seq;
                    segments[i] = 1;
                }
                return new Batch(batch, seq, ids, ids.clone(), pos, segments);
            }
        };
        try (NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel model = DecoderModel.load(dir, dtype, manager, kernels);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(16, 32, TargetModule.ALL_LINEAR), 1)) {
            TrainingSettings settings = new TrainingSettings(1, 1e-4, Scheduler.CONSTANT, 0, null, 1, 1.0, 0,
                    checkpointing, 1, 0, 0, 0, 0, 0);
            // warmup steps (first calls compile the kernels and grow the allocator), then the timed steps
            if (warmup > 0) {
                new Trainer(lora, settings.withMaxSteps(warmup), source, List.of(), List.of()).run();
            }
            long started = System.nanoTime();
            new Trainer(lora, settings.withMaxSteps(steps), source, List.of(), List.of()).run();
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.println(new ObjectMapper().writeValueAsString(new Result(name, model.parameterCount(),
                    lora.trainableParameterCount(), precision, checkpointing, seq, batch, steps, seconds,
                    steps * (double) batch * seq / seconds, peakRssKiB() / 1024.0)));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    static long peakRssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static void writeModel(Path dir, int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab)
            throws IOException {
        new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).writeValue(
                dir.resolve("config.json").toFile(), new LlamaConfig("llama", vocab, hidden, intermediate, layers, heads,
                        kvHeads, 1e-5, 10000.0, false, "float32"));
        QuickstartAssets.writeWeights(dir.resolve("model.safetensors"),
                new QuickstartAssets.Shape(hidden, intermediate, layers, heads, kvHeads), vocab, 7, 0.02);
    }
}
