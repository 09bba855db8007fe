package dev.finetune.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Each Jinja feature chat templates rely on, against HF's own Jinja environment (tools/reference/chat_templates, goldens/jinja-features.json). */
class JinjaFeaturesTest {

    @TestFactory
    Stream<DynamicTest> matchesHuggingFacesJinjaEnvironment() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode g;
        try (InputStream in = getClass().getResourceAsStream("/goldens/jinja-features.json")) {
            g = json.readTree(in);
        }
        return Stream.iterate(0, k -> k < g.get("cases").size(), k -> k + 1).map(k -> g.get("cases").get(k))
                .map(c -> DynamicTest.dynamicTest(c.get("id").asText(), () -> {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> vars = json.convertValue(c.get("variables"), Map.class);
                    JinjaTemplate t = JinjaTemplate.compile(c.get("template").asText());
                    if (c.has("error")) {
                        String error = c.get("error").asText();
                        if (error.startsWith("TemplateError: ")) {
                            assertThatThrownBy(() -> t.render(vars)).isInstanceOfSatisfying(JinjaException.Raised.class,
                                    e -> assertThat(e.templateMessage()).isEqualTo(error.substring("TemplateError: ".length())));
                        } else {
                            assertThatThrownBy(() -> t.render(vars)).isInstanceOf(JinjaException.class)
                                    .isNotInstanceOf(JinjaException.Raised.class);
                        }
                    } else {
                        assertThat(t.render(vars)).isEqualTo(c.get("text").asText());
                    }
                }));
    }

    @Test
    void syntaxErrorsNameTheTemplateLine() {
        assertThatThrownBy(() -> JinjaTemplate.compile("line one\n{% if x %}\nno end"))
                .isInstanceOfSatisfying(JinjaException.class, e -> assertThat(e.getMessage()).contains("endif"));
        assertThatThrownBy(() -> JinjaTemplate.compile("a\nb\n{{ x + }}"))
                .isInstanceOfSatisfying(JinjaException.class, e -> assertThat(e.line()).isEqualTo(3));
    }

    @Test
    void undefinedAttributeErrorNamesTheLine() {
        JinjaTemplate t = JinjaTemplate.compile("ok\n{{ nothing.here }}");
        assertThatThrownBy(() -> t.render(Map.of()))
                .isInstanceOfSatisfying(JinjaException.class, e -> assertThat(e.line()).isEqualTo(2));
    }

    @Test
    void templatesAreReusableAndDoNotLeakStateBetweenRenders() {
        JinjaTemplate t = JinjaTemplate.compile("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}");
        assertThat(t.render(Map.of("xs", List.of(1, 2)))).isEqualTo("3");
        assertThat(t.render(Map.of("xs", List.of(5)))).isEqualTo("5");
    }
}
