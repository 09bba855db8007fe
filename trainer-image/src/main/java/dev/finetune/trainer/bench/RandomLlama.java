package dev.finetune.trainer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * The benchmarks' model and data: a Llama of a given shape with random weights (seed 7, std 0.02, fp32
 * safetensors) and batches of full-length rows of uniformly random tokens, every token a label.
 */
public record RandomLlama(QuickstartAssets.Shape shape, int vocab) {

    record LlamaConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
            int numAttentionHeads, int numKeyValueHeads, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings,
            String torchDtype) {}

    /** The shape from the arguments hidden, intermediate, layers, heads, kvHeads and vocab, else the defaults. */
    public static RandomLlama from(BenchArgs a, RandomLlama defaults) {
        QuickstartAssets.Shape d = defaults.shape();
        return new RandomLlama(new QuickstartAssets.Shape(a.integer("hidden", d.hidden()),
                a.integer("intermediate", d.intermediate()), a.integer("layers", d.layers()), a.integer("heads", d.heads()),
                a.integer("kvHeads", d.kvHeads())), a.integer("vocab", defaults.vocab()));
    }

    /** Writes config.json and model.safetensors into {@code dir}. */
    public void write(Path dir) throws IOException {
        new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).writeValue(
                dir.resolve("config.json").toFile(), new LlamaConfig("llama", vocab, shape.hidden(), shape.intermediate(),
                        shape.layers(), shape.heads(), shape.kvHeads(), 1e-5, 10000.0, false, "float32"));
        QuickstartAssets.writeWeights(dir.resolve("model.safetensors"), shape, vocab, 7, 0.02);
    }

    /** {@code batches} batches per epoch of {@code rows} rows of {@code seq} random tokens (one Random of seed 1). */
    public BatchSource randomTokens(int batches, int rows, int seq) {
        Random random = new Random(1);
        return new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return batches;
            }

            @Override
            public Batch batch(int epoch, int index) {
                int[] ids = new int[rows * seq];
                int[] positions = new int[ids.length];
                int[] segments = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = random.nextInt(vocab);
                    positions[i] = i % seq;
                    segments[i] = 1;
                }
                return new Batch(rows, seq, ids, ids.clone(), positions, segments);
            }
        };
    }
}
