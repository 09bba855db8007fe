package dev.finetune.trainer.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.batch.PackingChoice;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.ComputeDtype;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Packed against unpacked training on the same samples: a random Llama (as {@link ThroughputBenchmark}), LoRA
 * r=16 on all linear layers, {@code samples} samples of random tokens whose lengths are uniform in
 * [{@code minLength}, {@code maxLength}], batched by {@link Batcher} with and without packing into rows of
 * {@code maxSeq}. Each plan trains {@code epochs} whole epochs after one warm-up epoch, the plans alternating
 * {@code repeats} times; sample tokens (padding not counted) per second are compared. Prints one JSON line per
 * repeat with the {@link PackingChoice} figures the rule decides on. Arguments {@code key=value}: the shape's
 * (hidden, intermediate, layers, heads, kvHeads, vocab), samples, minLength, maxLength, maxSeq, batch,
 * precision, epochs, repeats. {@code computeConditionsHold}: the rule's conditions on positions and attention
 * (its third, at least 100 optimizer steps per epoch, depends on the dataset's size, which is kept small here).
 */
public final class PackingBenchmark {

    /** One repeat's figures: the JSON line printed. */
    record Result(String name, int samples, int minLength, int maxLength, int maxSeq, int batch, double positionsSaved,
            double attentionRatio, int unpackedSteps, int packedSteps, boolean computeConditionsHold,
            double unpackedTokensPerSecond, double packedTokensPerSecond, double speedup) {}

    public static void main(String[] args) throws IOException {
        BenchArgs a = BenchArgs.parse(args);
        RandomLlama llama = RandomLlama.from(a, new RandomLlama(new QuickstartAssets.Shape(512, 1376, 2, 8, 8), 8000));
        int count = a.integer("samples", 128);
        int minLength = a.integer("minLength", 16);
        int maxLength = a.integer("maxLength", 512);
        int maxSeq = a.integer("maxSeq", 512);
        int batch = a.integer("batch", 4);
        int epochs = a.integer("epochs", 1);
        int repeats = a.integer("repeats", 2);
        String name = a.string("name", "llama-" + llama.shape().hidden() + "x" + llama.shape().layers());

        List<TokenizedSample> samples = samples(count, minLength, maxLength, llama.vocab());
        Batcher.Options options = new Batcher.Options(batch, 0, maxSeq, false, false, 42, 0, 1);
        PackingChoice choice = PackingChoice.decide(null, samples, options, 1, false);
        long tokens = samples.stream().mapToLong(TokenizedSample::length).sum() * epochs;

        Path dir = Files.createTempDirectory("finetune-bench-");
        llama.write(dir);
        try (NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel model = DecoderModel.load(dir, ComputeDtype.parse(a.string("precision", "fp32")), manager,
                        kernels);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(16, 32, TargetModule.ALL_LINEAR), 1)) {
            BatchSource unpacked = epochs(new Batcher(samples, options.withPacking(false)));
            BatchSource packed = epochs(new Batcher(samples, options.withPacking(true)));
            train(lora, unpacked, 1);
            train(lora, packed, 1);
            for (int r = 0; r < repeats; r++) {
                double unpackedSeconds = train(lora, unpacked, epochs);
                double packedSeconds = train(lora, packed, epochs);
                System.out.println(new ObjectMapper().writeValueAsString(new Result(name, count, minLength, maxLength,
                        maxSeq, batch, choice.positionsSaved(), choice.attentionRatio(),
                        choice.unpacked().optimizerSteps(), choice.packing().optimizerSteps(),
                        choice.positionsSaved() >= PackingChoice.MIN_POSITIONS_SAVED && choice.attentionRatio() <= 1,
                        tokens / unpackedSeconds, tokens / packedSeconds, unpackedSeconds / packedSeconds)));
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** Seconds {@code epochs} epochs of {@code source} take (constant learning rate, one micro-batch per step). */
    private static double train(LoraModel lora, BatchSource source, int epochs) {
        int steps = 0;
        for (int e = 0; e < epochs; e++) {
            steps += source.batchesPerEpoch(e);
        }
        TrainingSettings settings = new TrainingSettings(epochs, 1e-4, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false,
                1, 0, 0, steps, 0, 0);
        long started = System.nanoTime();
        new Trainer(lora, settings, source, List.of(), List.of()).run();
        return (System.nanoTime() - started) / 1e9;
    }

    private static BatchSource epochs(Batcher batcher) {
        return new BatchSource() {
            private final Map<Integer, List<Batch>> assembled = new java.util.HashMap<>();

            @Override
            public int batchesPerEpoch(int epoch) {
                return batcher.stepsPerEpoch();
            }

            @Override
            public Batch batch(int epoch, int index) {
                return assembled.computeIfAbsent(epoch, batcher::trainEpoch).get(index);
            }
        };
    }

    /** Samples of random tokens, lengths uniform in [min, max], every token but the first learned. */
    static List<TokenizedSample> samples(int count, int min, int max, int vocab) {
        Random random = new Random(3);
        List<TokenizedSample> out = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            int[] ids = new int[min + random.nextInt(max - min + 1)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1 + random.nextInt(vocab - 1);
            }
            out.add(new TokenizedSample(ids, ids.clone(), SourceLocation.ofFile("bench"), ids.length, Map.of(), null, null));
        }
        return out;
    }
}
