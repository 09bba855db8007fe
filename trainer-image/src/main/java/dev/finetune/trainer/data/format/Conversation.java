package dev.finetune.trainer.data.format;

import dev.finetune.trainer.data.SourceLocation;
import java.util.List;
import java.util.Map;

/**
 * A record in the one shape every format converts to.
 *
 * @param messages  the chat (empty for plain text records)
 * @param text      plain continuation text, for the {@code text} format; null otherwise
 * @param rejected  the rejected assistant reply of a preference record (kept for preference training); else null
 * @param scores    the record's numeric fields that selection or curriculum rank by (field name → value)
 * @param location  where the record came from
 */
public record Conversation(List<Message> messages, String text, String rejected, Map<String, Double> scores,
        SourceLocation location) {

    public Conversation {
        messages = List.copyOf(messages);
        scores = scores == null ? Map.of() : Map.copyOf(scores);
    }

    public boolean isText() {
        return text != null;
    }
}
