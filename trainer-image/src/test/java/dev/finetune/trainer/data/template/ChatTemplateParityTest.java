package dev.finetune.trainer.data.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.data.TestModels;
import dev.finetune.jinja.JinjaException;
import dev.finetune.jinja.JinjaTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every golden rendered by HF transformers' apply_chat_template (tools/reference/chat_templates) is
 * reproduced character for character by the Java renderer, including raise_exception refusals.
 */
class ChatTemplateParityTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode golden(String name) throws IOException {
        try (InputStream in = ChatTemplateParityTest.class.getResourceAsStream("/goldens/chat-templates/" + name + ".json")) {
            return JSON.readTree(in);
        }
    }

    static String templateSource(String name, JsonNode golden) throws IOException {
        if (golden.has("tokenizer")) {
            Path dir = TestModels.dir(golden.get("tokenizer").asText());
            return JSON.readTree(Files.readString(dir.resolve("tokenizer_config.json"))).get("chat_template").asText();
        }
        String source = golden.get("source").asText();
        String prefix = "trainer-image/src/";
        String resource = source.startsWith(prefix + "test/resources/") ? "/" + source.substring((prefix + "test/resources/").length())
                : "/" + source.substring((prefix + "main/resources/").length());
        try (InputStream in = ChatTemplateParityTest.class.getResourceAsStream(resource)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @TestFactory
    Stream<DynamicTest> rendersLikeHuggingFace() throws IOException {
        List<String> names = List.of("qwen3", "llama3", "gemma3", "deepseek_v3", "qwen2.5", "mistral", "zephyr",
                "named-chatml", "named-llama3", "named-zephyr", "named-alpaca", "named-mistral");
        Stream<DynamicTest> all = Stream.empty();
        for (String name : names) {
            JsonNode g = golden(name);
            JinjaTemplate template = JinjaTemplate.compile(templateSource(name, g));
            Stream<DynamicTest> tests = Stream.iterate(0, k -> k < g.get("cases").size(), k -> k + 1).map(k -> {
                JsonNode c = g.get("cases").get(k);
                return DynamicTest.dynamicTest(name + " " + c.get("id").asText() + " " + c.get("kwargs"),
                        () -> check(template, g, c));
            });
            all = Stream.concat(all, tests);
        }
        return all;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> variables(JsonNode golden, JsonNode c) {
        Map<String, Object> vars = new HashMap<>(JSON.convertValue(c.get("kwargs"), Map.class));
        vars.put("messages", JSON.convertValue(c.get("messages"), List.class));
        if (!golden.get("bos_token").isNull()) {
            vars.put("bos_token", golden.get("bos_token").asText());
        }
        if (!golden.get("eos_token").isNull()) {
            vars.put("eos_token", golden.get("eos_token").asText());
        }
        return vars;
    }

    static void check(JinjaTemplate template, JsonNode golden, JsonNode c) {
        Map<String, Object> vars = variables(golden, c);
        if (c.has("error")) {
            assertThatThrownBy(() -> template.render(vars))
                    .isInstanceOfSatisfying(JinjaException.Raised.class,
                            e -> assertThat(e.templateMessage()).isEqualTo(c.get("error").asText()));
        } else {
            assertThat(template.render(vars)).isEqualTo(c.get("text").asText());
        }
    }
}
