package dev.finetune.trainer.data.format;

import dev.finetune.trainer.data.SourceLocation;
import java.util.List;

/**
 * A record in the one shape every format converts to.
 *
 * @param messages  the chat (empty for plain text records)
 * @param text      plain continuation text, for the {@code text} format; null otherwise
 * @param rejected  the rejected assistant reply of a preference record (kept for preference training); else null
 * @param score     the record's numeric score field when selection or curriculum asks for one; else null
 * @param location  where the record came from
 */
public record Conversation(List<Message> messages, String text, String rejected, Double score, SourceLocation location) {

    public Conversation {
        messages = List.copyOf(messages);
    }

    public boolean isText() {
        return text != null;
    }
}
