package dev.finetune.trainer.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
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

    public static void main(String[] args) throws IOException {
        BenchArgs a = BenchArgs.parse(args);
        RandomLlama llama = RandomLlama.from(a, new RandomLlama(new QuickstartAssets.Shape(512, 1376, 8, 8, 8), 8000));
        int seq = a.integer("seq", 256);
        int batch = a.integer("batch", 1);
        String precision = a.string("precision", "fp32");
        boolean checkpointing = a.flag("checkpointing", false);
        int steps = a.integer("steps", 4);
        int warmup = a.integer("warmup", 1);
        String name = a.string("name", "llama-" + llama.shape().hidden() + "x" + llama.shape().layers());

        Path dir = Files.createTempDirectory("finetune-bench-");
        llama.write(dir);
        DataType dtype = dev.finetune.trainer.model.ComputeDtype.parse(precision);
        BatchSource source = llama.randomTokens(warmup + steps, batch, seq);
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

}
