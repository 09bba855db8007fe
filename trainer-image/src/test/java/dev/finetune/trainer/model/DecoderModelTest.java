package dev.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.ReferenceForward;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DecoderModelTest {

    @TempDir
    Path tmp;

    static TinyModels.Spec spec(String type) {
        return switch (type) {
            case "qwen2" -> TinyModels.Spec.qwen2();
            case "qwen3" -> TinyModels.Spec.qwen3();
            default -> TinyModels.Spec.llama();
        };
    }

    static float[] logits(DecoderModel model, NDManager m, long[] ids) {
        NDArray idArr = m.create(ids, new Shape(1, ids.length));
        long[] pos = new long[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        return model.logits(idArr, m.create(pos, new Shape(1, ids.length))).toFloatArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3"})
    void forwardMatchesAnIndependentJavaReference(String type) {
        Path dir = TinyModels.write(tmp.resolve(type), spec(type));
        long[] ids = {1, 5, 9, 33, 2, 17, 63};
        double[][] expected = new ReferenceForward(dir).logits(ids);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            float[] actual = logits(model, m, ids);
            int v = model.config().vocabSize();
            assertThat(actual).hasSize(ids.length * v);
            for (int t = 0; t < ids.length; t++) {
                for (int j = 0; j < v; j++) {
                    assertThat((double) actual[t * v + j]).as("logit t=%d v=%d", t, j).isCloseTo(expected[t][j], within(2e-4));
                }
            }
        }
    }

    /** Replaces {@code from} by {@code to} in the config.json of the model in {@code dir}; returns {@code dir}. */
    static Path editConfig(Path dir, String from, String to) throws java.io.IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace(from, to));
        return dir;
    }

    /** What loading the model in {@code dir} throws (it must fail). */
    static Throwable loadFailure(Path dir) {
        try (NDManager m = Engine.manager().newSubManager()) {
            return catchThrowable(() -> DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels()));
        }
    }

    @Test
    void changingATokenNeverChangesEarlierLogits() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m)) {
            long[] a = {3, 4, 5, 6, 7, 8};
            long[] b = {3, 4, 5, 40, 7, 8};
            float[] la = logits(model, m, a);
            float[] lb = logits(model, m, b);
            int v = 64;
            for (int i = 0; i < 3 * v; i++) {
                assertThat(lb[i]).isEqualTo(la[i]);
            }
            boolean laterDiffers = false;
            for (int i = 3 * v; i < 6 * v; i++) {
                laterDiffers |= la[i] != lb[i];
            }
            assertThat(laterDiffers).isTrue();
        }
    }

    @Test
    void cachedGreedyGenerationEqualsRecomputingTheWholeSequence() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.qwen3(), DataType.FLOAT32, m)) {
            long[] prompt = {1, 10, 20, 30};
            List<Long> cached = new Generator(model).generate(prompt, Generator.Options.greedy(6), Set.of());
            List<Long> slow = new ArrayList<>();
            List<Long> seq = new ArrayList<>();
            for (long p : prompt) {
                seq.add(p);
            }
            int v = model.config().vocabSize();
            for (int i = 0; i < 6; i++) {
                long[] ids = seq.stream().mapToLong(Long::longValue).toArray();
                float[] l = logits(model, m, ids);
                int best = 0;
                int base = (ids.length - 1) * v;
                for (int j = 1; j < v; j++) {
                    if (l[base + j] > l[base + best]) {
                        best = j;
                    }
                }
                slow.add((long) best);
                seq.add((long) best);
            }
            assertThat(cached).containsExactlyElementsOf(slow);
        }
    }

    @Test
    void packedSegmentsSeeOnlyThemselves() {
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = TinyModels.load(tmp, TinyModels.Spec.llama(), DataType.FLOAT32, m)) {
            long[] second = {9, 8, 7};
            float[] alone = logits(model, m, second);
            long[] packed = {1, 2, 3, 4, 9, 8, 7};
            NDArray ids = m.create(packed, new Shape(1, 7));
            NDArray pos = m.create(new long[] {0, 1, 2, 3, 0, 1, 2}, new Shape(1, 7));
            NDArray mask = DecoderModel.packedMask(m, new long[] {1, 1, 1, 1, 2, 2, 2}, 1, 7);
            float[] all = Engine.kernels().logits(model.hiddenStates(ids, pos, mask, null,
                    ForwardContext.inference(Engine.kernels())), model.lmHead()).toFloatArray();
            int v = 64;
            for (int i = 0; i < 3 * v; i++) {
                assertThat(all[4 * v + i]).isCloseTo(alone[i], within(1e-5f));
            }
        }
    }

    @Test
    void shardedCheckpointLoadsTheSameWeights() {
        Path single = TinyModels.write(tmp.resolve("single"), TinyModels.Spec.llama());
        Path sharded = TinyModels.write(tmp.resolve("sharded"), TinyModels.Spec.llama().withShards(3));
        assertThat(Files.exists(sharded.resolve("model-00003-of-00003.safetensors"))).isTrue();
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel a = DecoderModel.load(single, DataType.FLOAT32, m, Engine.kernels());
                DecoderModel b = DecoderModel.load(sharded, DataType.FLOAT32, m, Engine.kernels())) {
            assertThat(logits(b, m, new long[] {1, 2, 3})).containsExactly(logits(a, m, new long[] {1, 2, 3}));
        }
    }

    @Test
    void bf16ComputeStaysCloseToFp32OnBf16Weights() {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama().withDtype("BF16"));
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel fp32 = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels());
                DecoderModel bf16 = DecoderModel.load(dir, DataType.BFLOAT16, m, Engine.kernels())) {
            assertThat(Engine.kernels().dtypeOf(bf16.embedTokens())).isEqualTo(DataType.BFLOAT16);
            assertThat(Engine.kernels().dtypeOf(fp32.embedTokens())).isEqualTo(DataType.FLOAT32);
            long[] ids = {1, 5, 9, 33};
            float[] a = logits(fp32, m, ids);
            float[] b = logits(bf16, m, ids);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                maxAbs = Math.max(maxAbs, Math.abs(a[i]));
            }
            assertThat(maxDiff).isLessThan(0.05 * maxAbs).isGreaterThan(0);
        }
    }

    @Test
    void missingTensorNamesFileAndKey() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama().withShards(2));
        String index = Files.readString(dir.resolve("model.safetensors.index.json"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                index.replace("\"model.norm.weight\"", "\"model.norm.weightX\""));
        assertThat(loadFailure(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors.index.json")
                .hasMessageContaining("model.norm.weightX");
    }

    @Test
    void shapeThatContradictsConfigIsRejected() throws Exception {
        Path dir = editConfig(TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama()), "\"intermediate_size\" : 64",
                "\"intermediate_size\" : 60");
        assertThat(loadFailure(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors")
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
                .hasMessageContaining("[64, 32]")
                .hasMessageContaining("[60, 32]");
    }

    @Test
    void unsupportedArchitectureAndMissingFilesAreExplained() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("m"), TinyModels.Spec.llama());
        String config = Files.readString(dir.resolve("config.json"));
        editConfig(dir, "\"llama\"", "\"gpt2\"");
        assertThatThrownBy(() -> ModelConfig.read(dir)).hasMessageContaining("gpt2").hasMessageContaining("llama, mistral, qwen2, qwen3");
        Files.delete(dir.resolve("config.json"));
        assertThatThrownBy(() -> ModelConfig.read(dir)).hasMessageContaining("no config.json");
        Files.writeString(dir.resolve("config.json"), config);
        Files.delete(dir.resolve("model.safetensors"));
        assertThat(loadFailure(dir))
                .hasMessageContaining("neither model.safetensors nor model.safetensors.index.json");
    }

    @Test
    void configReadsGqaHeadDimBiasesAndTies() {
        Path q2 = TinyModels.write(tmp.resolve("q2"), TinyModels.Spec.qwen2());
        Path q3 = TinyModels.write(tmp.resolve("q3"), TinyModels.Spec.qwen3());
        ModelConfig c2 = ModelConfig.read(q2);
        ModelConfig c3 = ModelConfig.read(q3);
        assertThat(c2.attentionBias()).isTrue();
        assertThat(c2.outputProjectionBias()).isFalse();
        assertThat(c2.tieWordEmbeddings()).isTrue();
        assertThat(c2.headDim()).isEqualTo(8);
        assertThat(c3.headDim()).isEqualTo(16);
        assertThat(c3.qkNorm()).isTrue();
        assertThat(c3.numKvHeads()).isEqualTo(2);
        assertThat(c3.attentionBias()).isFalse();
    }
}
