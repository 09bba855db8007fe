package dev.finetune.trainer.data.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Detects a record's format and converts it to a {@link Conversation}. Field names can be remapped
 * ({@code dataset.columns}, like LLaMA-Factory's dataset_info columns): the key is the format's field name
 * (instruction, input, output, system, history, conversation, conversations, from, value, messages, role,
 * content, prompt, chosen, rejected, text), the value the name used in the data.
 */
public final class Formats {

    /** The canonical field names {@code columns} may remap. */
    public static final List<String> FIELDS = List.of("instruction", "input", "output", "system", "history",
            "conversation", "conversations", "from", "value", "messages", "role", "content", "prompt", "chosen",
            "rejected", "text");

    private final Map<String, String> columns;
    private final List<String> scoreFields;

    /**
     * @param columns    canonical → actual field names (null or empty: none)
     * @param scoreFields numeric fields to keep in {@link Conversation#scores()} (absent in a record: not kept)
     */
    public Formats(Map<String, String> columns, List<String> scoreFields) {
        this.columns = columns == null ? Map.of() : Map.copyOf(columns);
        for (String key : this.columns.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new DatasetException(null, "columns." + key, "unknown field name '" + key + "' in dataset.columns",
                        "keys are the format's field names: " + FIELDS + "; values are your data's names");
            }
        }
        this.scoreFields = scoreFields == null ? List.of() : List.copyOf(scoreFields);
    }

    String col(String canonical) {
        return columns.getOrDefault(canonical, canonical);
    }

    /** The format of {@code record}, judged by which fields it has. */
    public DatasetFormat detect(RawRecord record) {
        JsonNode j = record.json();
        if (j.has(col("messages"))) {
            return DatasetFormat.MESSAGES;
        }
        if (j.has(col("conversations"))) {
            return DatasetFormat.SHAREGPT;
        }
        if (j.has(col("conversation"))) {
            return DatasetFormat.CONVERSATION;
        }
        if (j.has(col("chosen")) && j.has(col("rejected"))) {
            return DatasetFormat.PREFERENCE;
        }
        if (j.has(col("instruction"))) {
            return DatasetFormat.ALPACA;
        }
        if (j.has(col("text"))) {
            return DatasetFormat.TEXT;
        }
        List<String> seen = new ArrayList<>();
        j.fieldNames().forEachRemaining(seen::add);
        throw new DatasetException(record.location(), null, "cannot tell the dataset format from the fields " + seen,
                "set dataset.format (alpaca, conversation, sharegpt, messages, preference, text), and dataset.columns "
                        + "if your field names differ, e.g. {instruction: question, output: answer}");
    }

    public Conversation convert(DatasetFormat format, RawRecord r) {
        if (format != DatasetFormat.AUTO) {
            requireKeyField(format, r);
        }
        Map<String, Double> score = scores(r);
        return switch (format) {
            case ALPACA -> alpaca(r, score);
            case CONVERSATION -> conversation(r, score);
            case SHAREGPT -> sharegpt(r, score);
            case MESSAGES -> messages(r, score);
            case PREFERENCE -> preference(r, score);
            case TEXT -> new Conversation(List.of(), string(r, r.json(), col("text"), col("text"), true), null, score,
                    r.location());
            case AUTO -> convert(detect(r), r);
        };
    }

    /** The field that marks a record of {@code format} (the one {@link #detect} looks for). */
    private String keyField(DatasetFormat format) {
        return switch (format) {
            case ALPACA -> col("instruction");
            case CONVERSATION -> col("conversation");
            case SHAREGPT -> col("conversations");
            case MESSAGES -> col("messages");
            case PREFERENCE -> col("chosen");
            case TEXT -> col("text");
            case AUTO -> throw new IllegalArgumentException("auto has no key field");
        };
    }

    /**
     * A record read with a declared format must have that format's key field; when it is missing, the error
     * says which format the record does look like (a file declared with the wrong {@code dataset.format}).
     */
    private void requireKeyField(DatasetFormat format, RawRecord r) {
        String key = keyField(format);
        if (r.json().has(key)) {
            return;
        }
        String declared = format.name().toLowerCase(Locale.ROOT);
        DatasetFormat looksLike = null;
        try {
            looksLike = detect(r);
        } catch (DatasetException undetectable) {
            // no known format's fields: the plain "is missing" hint below applies
        }
        if (looksLike == null || looksLike == format) {
            throw missing(r, key);
        }
        String actual = looksLike.name().toLowerCase(Locale.ROOT);
        throw new DatasetException(r.location(), key, "is missing: dataset.format is " + declared + ", but the record "
                + "has " + fieldNames(r) + ", which is " + actual + " data",
                "set dataset.format: " + actual + " (or auto, which detects each file's format), or map your field "
                        + "names with dataset.columns, e.g. {" + baseName(key) + ": <your name>}");
    }

    private Map<String, Double> scores(RawRecord r) {
        Map<String, Double> out = new java.util.HashMap<>();
        for (String scoreField : scoreFields) {
            JsonNode s = r.json().get(scoreField);
            if (s == null || s.isNull()) {
                continue;
            }
            if (!s.isNumber()) {
                throw new DatasetException(r.location(), scoreField, "score is " + RecordReader.article(s) + ", expected a number",
                        "write the score as a JSON number, e.g. \"" + scoreField + "\": 0.7");
            }
            out.put(scoreField, s.asDouble());
        }
        return out;
    }

    private Conversation alpaca(RawRecord r, Map<String, Double> score) {
        JsonNode j = r.json();
        List<Message> m = new ArrayList<>();
        String system = optionalString(r, j, col("system"), col("system"));
        if (system != null && !system.isBlank()) {
            m.add(Message.system(system));
        }
        JsonNode history = j.get(col("history"));
        if (history != null && !history.isNull()) {
            if (!history.isArray()) {
                throw wrongType(r, col("history"), history, "a list of [instruction, response] pairs");
            }
            for (int k = 0; k < history.size(); k++) {
                JsonNode pair = history.get(k);
                String f = col("history") + "[" + k + "]";
                if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isTextual()) {
                    throw wrongType(r, f, pair, "a pair of strings [instruction, response]");
                }
                m.add(Message.user(nonEmpty(r, f + "[0]", pair.get(0).asText())));
                m.add(Message.assistant(nonEmpty(r, f + "[1]", pair.get(1).asText())));
            }
        }
        String instruction = string(r, j, col("instruction"), col("instruction"), true);
        String input = optionalString(r, j, col("input"), col("input"));
        String prompt = input == null || input.isEmpty() ? instruction : instruction + "\n" + input;
        m.add(Message.user(prompt));
        m.add(Message.assistant(string(r, j, col("output"), col("output"), true)));
        return new Conversation(m, null, null, score, r.location());
    }

    private Conversation conversation(RawRecord r, Map<String, Double> score) {
        String f = col("conversation");
        JsonNode turns = list(r, r.json(), f, f, "a non-empty list of {\"input\", \"output\"} turns");
        List<Message> m = new ArrayList<>();
        for (int k = 0; k < turns.size(); k++) {
            JsonNode t = turns.get(k);
            String tf = f + "[" + k + "]";
            if (!t.isObject()) {
                throw wrongType(r, tf, t, "an object {\"input\", \"output\"}");
            }
            String system = optionalString(r, t, col("system"), tf + "." + col("system"));
            if (system != null && !system.isBlank()) {
                if (k > 0) {
                    m.add(Message.system(system));
                } else {
                    m.addFirst(Message.system(system));
                }
            }
            m.add(Message.user(string(r, t, col("input"), tf + "." + col("input"), true)));
            m.add(Message.assistant(string(r, t, col("output"), tf + "." + col("output"), true)));
        }
        return new Conversation(m, null, null, score, r.location());
    }

    private Conversation sharegpt(RawRecord r, Map<String, Double> score) {
        String f = col("conversations");
        JsonNode turns = list(r, r.json(), f, f, "a non-empty list of {\"from\", \"value\"} turns");
        List<Message> m = new ArrayList<>();
        String system = optionalString(r, r.json(), col("system"), col("system"));
        if (system != null && !system.isBlank()) {
            m.add(Message.system(system));
        }
        for (int k = 0; k < turns.size(); k++) {
            JsonNode t = turns.get(k);
            String tf = f + "[" + k + "]";
            if (!t.isObject()) {
                throw wrongType(r, tf, t, "an object {\"from\", \"value\"}");
            }
            String from = string(r, t, col("from"), tf + "." + col("from"), true);
            Role role = switch (from.toLowerCase(Locale.ROOT)) {
                case "human", "user" -> Role.USER;
                case "gpt", "assistant", "model", "chatgpt", "bard", "bing" -> Role.ASSISTANT;
                case "system" -> Role.SYSTEM;
                default -> throw new DatasetException(r.location(), tf + "." + col("from"), "unknown role '" + from + "'",
                        "use human, gpt or system (tool/function turns are not supported as training data)");
            };
            m.add(new Message(role, string(r, t, col("value"), tf + "." + col("value"), role == Role.ASSISTANT)));
        }
        return checked(new Conversation(m, null, null, score, r.location()), r, f);
    }

    private Conversation messages(RawRecord r, Map<String, Double> score) {
        String f = col("messages");
        JsonNode turns = list(r, r.json(), f, f, "a non-empty list of {\"role\", \"content\"} messages");
        return checked(new Conversation(messageList(r, turns, f), null, null, score, r.location()), r, f);
    }

    private List<Message> messageList(RawRecord r, JsonNode turns, String f) {
        List<Message> m = new ArrayList<>();
        for (int k = 0; k < turns.size(); k++) {
            JsonNode t = turns.get(k);
            String tf = f + "[" + k + "]";
            if (!t.isObject()) {
                throw wrongType(r, tf, t, "an object {\"role\", \"content\"}");
            }
            String roleName = string(r, t, col("role"), tf + "." + col("role"), true);
            Role role = switch (roleName.toLowerCase(Locale.ROOT)) {
                case "user" -> Role.USER;
                case "assistant" -> Role.ASSISTANT;
                case "system", "developer" -> Role.SYSTEM;
                default -> throw new DatasetException(r.location(), tf + "." + col("role"), "unknown role '" + roleName + "'",
                        "use system, user or assistant (tool and function messages are not supported as training data)");
            };
            String content = content(r, t.get(col("content")), tf + "." + col("content"), role == Role.ASSISTANT);
            String reasoning = t.hasNonNull("reasoning_content") ? t.get("reasoning_content").asText() : null;
            m.add(new Message(role, content, reasoning));
        }
        return m;
    }

    /** OpenAI content: a string, or a list of parts of which only {"type": "text"} is supported. */
    private String content(RawRecord r, JsonNode c, String field, boolean requireNonEmpty) {
        if (c == null || c.isNull()) {
            throw missing(r, field);
        }
        String text;
        if (c.isTextual()) {
            text = c.asText();
        } else if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < c.size(); k++) {
                JsonNode part = c.get(k);
                if (!part.isObject()) {
                    // ["Paris"] for "Paris": say what the part is, not "unsupported content part " with nothing after it
                    throw new DatasetException(r.location(), field + "[" + k + "]", "is " + RecordReader.article(part)
                            + ", expected a content part object", "write the content as a string, or as a list of "
                            + "{\"type\": \"text\", \"text\": ...} parts");
                }
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new DatasetException(r.location(), field + "[" + k + "]",
                            "text".equals(part.path("type").asText()) ? "text part without a string \"text\""
                                    : "unsupported content part " + part.path("type"),
                            "only {\"type\": \"text\", \"text\": ...} parts can be trained on");
                }
                sb.append(part.get("text").asText());
            }
            text = sb.toString();
        } else {
            throw wrongType(r, field, c, "a string");
        }
        return requireNonEmpty ? nonEmpty(r, field, text) : text;
    }

    private Conversation preference(RawRecord r, Map<String, Double> score) {
        JsonNode j = r.json();
        List<Message> m = new ArrayList<>();
        String system = optionalString(r, j, col("system"), col("system"));
        if (system != null && !system.isBlank()) {
            m.add(Message.system(system));
        }
        JsonNode prompt = j.get(col("prompt"));
        if (prompt == null || prompt.isNull()) {
            throw missing(r, col("prompt"));
        }
        if (prompt.isArray()) {
            m.addAll(messageList(r, prompt, col("prompt")));
        } else {
            m.add(Message.user(string(r, j, col("prompt"), col("prompt"), true)));
        }
        String chosen = reply(r, j.get(col("chosen")), col("chosen"));
        String rejected = reply(r, j.get(col("rejected")), col("rejected"));
        m.add(Message.assistant(chosen));
        return new Conversation(m, null, rejected, score, r.location());
    }

    /** A preference reply: a string, or a message list whose last turn is the assistant's. */
    private String reply(RawRecord r, JsonNode n, String field) {
        if (n == null || n.isNull()) {
            throw missing(r, field);
        }
        if (n.isTextual()) {
            return nonEmpty(r, field, n.asText());
        }
        if (n.isArray() && !n.isEmpty()) {
            List<Message> ms = messageList(r, n, field);
            Message last = ms.getLast();
            if (last.role() != Role.ASSISTANT) {
                throw new DatasetException(r.location(), field, "the last message is not the assistant's",
                        "end " + field + " with {\"role\": \"assistant\", \"content\": ...}");
            }
            return last.content();
        }
        throw wrongType(r, field, n, "a string or a list of messages");
    }

    private Conversation checked(Conversation c, RawRecord r, String field) {
        if (c.messages().stream().noneMatch(m -> m.role() == Role.ASSISTANT)) {
            throw new DatasetException(r.location(), field, "no assistant turn, so nothing would be learned",
                    "add the assistant's reply, or drop the record (dataset.skipInvalidRecords: true skips such records)");
        }
        return c;
    }

    /** A required, non-empty JSON array. */
    private static JsonNode list(RawRecord r, JsonNode obj, String name, String field, String expected) {
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            throw missing(r, field);
        }
        if (!v.isArray() || v.isEmpty()) {
            throw wrongType(r, field, v, expected);
        }
        return v;
    }

    private static String string(RawRecord r, JsonNode obj, String name, String field, boolean requireNonEmpty) {
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            throw missing(r, field);
        }
        if (!v.isTextual()) {
            throw wrongType(r, field, v, "a string");
        }
        return requireNonEmpty ? nonEmpty(r, field, v.asText()) : v.asText();
    }

    private static String optionalString(RawRecord r, JsonNode obj, String name, String field) {
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(r, field, v, "a string");
        }
        return v.asText();
    }

    private static String nonEmpty(RawRecord r, String field, String s) {
        if (s.isBlank()) {
            throw new DatasetException(r.location(), field, "is empty",
                    "fill it in or drop the record (dataset.skipInvalidRecords: true skips such records)");
        }
        return s;
    }

    private static List<String> fieldNames(RawRecord r) {
        List<String> seen = new ArrayList<>();
        for (Iterator<String> it = r.json().fieldNames(); it.hasNext();) {
            seen.add(it.next());
        }
        return seen;
    }

    private static DatasetException missing(RawRecord r, String field) {
        return new DatasetException(r.location(), field, "is missing (record has " + fieldNames(r) + ")",
                "add it, or map your field name to it with dataset.columns, e.g. {" + baseName(field) + ": <your name>}");
    }

    private static String baseName(String field) {
        int dot = field.lastIndexOf('.');
        return dot >= 0 ? field.substring(dot + 1) : field;
    }

    private static DatasetException wrongType(RawRecord r, String field, JsonNode v, String expected) {
        String kind = v == null ? "missing" : v.isArray() && v.isEmpty() ? "an empty list" : RecordReader.article(v);
        return new DatasetException(r.location(), field, "is " + kind
                + ", expected " + expected, "see docs/data.md for the shape of each format");
    }
}
