package dev.finetune.trainer.data.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.data.TestModels;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class ModelTokenizerTest {

    @TestFactory
    Stream<DynamicTest> encodesRenderedChatsToTheSameIdsAsHuggingFace() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Stream<DynamicTest> all = Stream.empty();
        for (String name : new String[] {"qwen3", "llama3", "gemma3", "deepseek_v3"}) {
            JsonNode g;
            try (InputStream in = getClass().getResourceAsStream("/goldens/chat-templates/" + name + ".json")) {
                g = json.readTree(in);
            }
            ModelTokenizer tok = TestModels.tokenizer(g.get("tokenizer").asText());
            all = Stream.concat(all, Stream.iterate(0, k -> k < g.get("cases").size(), k -> k + 1)
                    .map(k -> g.get("cases").get(k)).filter(c -> c.has("input_ids"))
                    .map(c -> DynamicTest.dynamicTest(name + " " + c.get("id").asText() + " " + c.get("kwargs"), () -> {
                        int[] expected = json.convertValue(c.get("input_ids"), int[].class);
                        assertThat(tok.encode(c.get("text").asText()).ids()).containsExactly(expected);
                    })));
        }
        return all;
    }

    @Test
    void qwenHasNoBosEosIsImEndPadIsEndOfText() {
        SpecialTokens s = TestModels.tokenizer(TestModels.QWEN3).specialTokens();
        assertThat(s.bos()).isNull();
        assertThat(s.bosId()).isEqualTo(-1);
        assertThat(s.eos()).isEqualTo("<|im_end|>");
        assertThat(s.eosId()).isEqualTo(151645);
        assertThat(s.padId()).isEqualTo(151643);
        assertThat(s.stopIds()).contains(151645);
        assertThat(s.addBosToken()).isFalse();
    }

    @Test
    void llama3HasBeginOfTextAndStopsOnEotIdToo() {
        SpecialTokens s = TestModels.tokenizer(TestModels.LLAMA3).specialTokens();
        assertThat(s.bos()).isEqualTo("<|begin_of_text|>");
        assertThat(s.bosId()).isEqualTo(128000);
        assertThat(s.eosId()).isEqualTo(128001);
        assertThat(s.padId()).isEqualTo(128001); // no pad token: eos pads (always masked)
        assertThat(s.stopIds()).contains(128001, 128009);
    }

    @Test
    void gemma3SpecialTokens() {
        SpecialTokens s = TestModels.tokenizer(TestModels.GEMMA3).specialTokens();
        assertThat(s.bosId()).isEqualTo(2);
        assertThat(s.eos()).isEqualTo("<end_of_turn>");
        assertThat(s.eosId()).isEqualTo(106);
        assertThat(s.padId()).isEqualTo(0);
        assertThat(s.addBosToken()).isTrue();
    }

    @Test
    void noTruncationAt512Tokens() {
        ModelTokenizer tok = TestModels.tokenizer(TestModels.QWEN3);
        String text = "word ".repeat(2000);
        assertThat(tok.encode(text).size()).isGreaterThan(1500);
    }

    @Test
    void noSpecialTokensAdded() {
        ModelTokenizer tok = TestModels.tokenizer(TestModels.LLAMA3);
        int[] ids = tok.encode("Hello").ids();
        assertThat(ids).doesNotContain(128000, 128001);
    }

    @Test
    void generationConfigAddsStopIdsAndConfigGivesPad(@TempDir Path dir) throws IOException {
        Path src = TestModels.dir(TestModels.LLAMA3);
        Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008]}");
        Files.writeString(dir.resolve("config.json"), "{\"pad_token_id\": 128004}");
        try (ModelTokenizer tok = ModelTokenizer.load(dir)) {
            assertThat(tok.specialTokens().stopIds()).contains(128001, 128008, 128009);
            assertThat(tok.specialTokens().padId()).isEqualTo(128004);
        }
    }
}
