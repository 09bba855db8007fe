package dev.finetune.trainer.data.template;

import dev.finetune.trainer.data.format.Message;
import dev.finetune.jinja.JinjaTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A chat template: the model's own {@code chat_template} or a named fallback, rendered exactly as
 * Hugging Face {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} does.
 *
 * @param name   "model" for the model's own template, else the fallback's name
 * @param origin where the text came from (a file, or "built-in")
 */
public record ChatTemplate(String name, String origin, JinjaTemplate compiled) {

    /** Fallback templates for models without a chat_template of their own. */
    public static final Set<String> NAMED = Set.of("chatml", "llama3", "zephyr", "alpaca", "mistral");

    public static ChatTemplate of(String name, String origin, String source) {
        return new ChatTemplate(name, origin, JinjaTemplate.compile(source));
    }

    /** One of {@link #NAMED}; throws IllegalArgumentException naming the choices for anything else. */
    public static ChatTemplate named(String name) {
        if (!NAMED.contains(name)) {
            throw new IllegalArgumentException("unknown chat template '" + name + "'; use 'model' (the model's own) or one of "
                    + NAMED.stream().sorted().toList());
        }
        String resource = "named/" + name + ".jinja";
        try (InputStream in = ChatTemplate.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return of(name, "built-in " + name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String source() {
        return compiled.source();
    }

    /**
     * Renders {@code messages}.
     *
     * @param addGenerationPrompt append the opening of an assistant turn
     * @param specialTokens       {@code bos_token}, {@code eos_token}, ... as HF passes them (absent ones left undefined)
     * @param extra               further template variables, e.g. {@code enable_thinking}
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, String> specialTokens,
            Map<String, Object> extra) {
        Map<String, Object> vars = new HashMap<>();
        specialTokens.forEach((k, v) -> {
            if (v != null) {
                vars.put(k, v);
            }
        });
        vars.putAll(extra);
        vars.put("messages", toTemplateMessages(messages));
        vars.put("add_generation_prompt", addGenerationPrompt);
        return compiled.render(vars);
    }

    static List<Map<String, Object>> toTemplateMessages(List<Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role().wireName());
            map.put("content", m.content());
            if (m.reasoning() != null) {
                map.put("reasoning_content", m.reasoning());
            }
            out.add(map);
        }
        return out;
    }
}
