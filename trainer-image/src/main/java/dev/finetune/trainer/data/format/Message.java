package dev.finetune.trainer.data.format;

import java.util.Objects;

/**
 * One turn of a conversation after format conversion. {@code reasoning} is optional reasoning text kept
 * apart from {@code content} (rendered by templates that know {@code reasoning_content}, e.g. Qwen3).
 */
public record Message(Role role, String content, String reasoning) {

    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public Message(Role role, String content) {
        this(role, content, null);
    }

    public static Message system(String content) {
        return new Message(Role.SYSTEM, content);
    }

    public static Message user(String content) {
        return new Message(Role.USER, content);
    }

    public static Message assistant(String content) {
        return new Message(Role.ASSISTANT, content);
    }
}
