package dev.finetune.trainer.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ArbitrarySupplier;
import net.jqwik.api.Combinators;

/**
 * One edit of a JSON tree, as jqwik generates (and shrinks) it: which node ({@code target}, taken modulo the
 * number of nodes in document order), what to do to it, and which replacement value or field name
 * ({@code choice}, modulo the palette). Applied in sequence to a deep copy of a valid document.
 */
public record Mutation(Kind kind, int target, int choice) {

    public enum Kind {
        /** Remove the node from its object or array. */
        DELETE,
        /** Put a palette value in its place. */
        REPLACE,
        /** Add a palette field (a known name or a stray one) to the nearest object. */
        ADD_FIELD,
        /** Rename an object field to a palette name. */
        RENAME,
        /** Repeat an array element, or empty the array. */
        RESIZE
    }

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Values of every JSON type and the edge cases of each: what a careless export or a typo produces. */
    static final List<JsonNode> VALUES = List.of(F.nullNode(), F.booleanNode(true), F.booleanNode(false), F.numberNode(0),
            F.numberNode(-1), F.numberNode(1), F.numberNode(7), F.numberNode(2_147_483_648L), F.numberNode(-9_007_199_254_740_993L),
            F.numberNode(1e308), F.numberNode(0.5), F.numberNode(-0.0), F.textNode(""), F.textNode(" "), F.textNode("x"),
            F.textNode("user"), F.textNode("assistant"), F.textNode("system"), F.textNode("tool"), F.textNode("gpt"),
            F.textNode("human"), F.textNode("F32"), F.textNode("BF16"), F.textNode("I8"), F.textNode("llama"),
            F.textNode("<|im_end|>"), F.textNode("</s>"), F.textNode("{{ bos_token + x }}"), F.textNode("{% for %}"),
            F.textNode("é\u0000\uD83D\uDE00\u202E"), F.textNode("x".repeat(3000)), F.textNode("../../etc"),
            F.textNode("/abs/path"), F.arrayNode(), F.arrayNode().add(1).add(2), F.arrayNode().add("a"),
            F.arrayNode().add(F.objectNode()), F.objectNode(), F.objectNode().put("a", 1),
            F.objectNode().put("role", "user").put("content", "hi"), F.objectNode().put("type", "text").put("text", "t"));

    /** Field names the formats and files know, and strays. */
    static final List<String> NAMES = List.of("instruction", "input", "output", "system", "history", "conversation",
            "conversations", "from", "value", "messages", "role", "content", "prompt", "chosen", "rejected", "text",
            "reasoning_content", "type", "score", "dtype", "shape", "data_offsets", "__metadata__", "model_type",
            "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size", "rope_scaling",
            "bos_token", "eos_token", "pad_token", "chat_template", "add_bos_token", "eos_token_id", "pad_token_id",
            "spec", "apiVersion", "kind", "metadata", "extra", "");

    /** Up to four edits of a JSON tree: the parameter supplier the fuzz properties share ({@code @ForAll(supplier = Mutation.Edits.class)}). */
    public static final class Edits implements ArbitrarySupplier<List<Mutation>> {
        @Override
        public Arbitrary<List<Mutation>> get() {
            return lists(4);
        }
    }

    public static Arbitrary<List<Mutation>> lists(int max) {
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 10_000),
                Arbitraries.integers().between(0, 10_000)).as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(max);
    }

    /** A mutated deep copy of {@code document}. */
    public static JsonNode applyAll(JsonNode document, List<Mutation> mutations) {
        JsonNode root = document.deepCopy();
        for (Mutation m : mutations) {
            root = m.apply(root);
        }
        return root;
    }

    private record Slot(JsonNode parent, String field, int index, JsonNode node) {}

    JsonNode apply(JsonNode root) {
        List<Slot> slots = new ArrayList<>();
        collect(null, null, -1, root, slots);
        Slot s = slots.get(target % slots.size());
        JsonNode value = VALUES.get(choice % VALUES.size()).deepCopy();
        String name = NAMES.get(choice % NAMES.size());
        switch (kind) {
            case DELETE -> {
                if (s.parent == null) {
                    return F.objectNode();
                }
                remove(s);
            }
            case REPLACE -> {
                if (s.parent == null) {
                    return value;
                }
                put(s, value);
            }
            case ADD_FIELD -> {
                ObjectNode obj = s.node instanceof ObjectNode o ? o : s.parent instanceof ObjectNode p ? p : null;
                if (obj != null) {
                    obj.set(name, value);
                }
            }
            case RENAME -> {
                if (s.parent instanceof ObjectNode p && s.field != null && !p.has(name)) {
                    p.remove(s.field);
                    p.set(name, s.node);
                }
            }
            case RESIZE -> {
                if (s.node instanceof ArrayNode a) {
                    if (choice % 3 == 0 || a.isEmpty()) {
                        a.removeAll();
                    } else {
                        a.add(a.get(choice % a.size()).deepCopy());
                    }
                }
            }
        }
        return root;
    }

    private static void collect(JsonNode parent, String field, int index, JsonNode node, List<Slot> out) {
        out.add(new Slot(parent, field, index, node));
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                collect(node, e.getKey(), -1, e.getValue(), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collect(node, null, i, node.get(i), out);
            }
        }
    }

    private static void remove(Slot s) {
        if (s.parent instanceof ObjectNode p) {
            p.remove(s.field);
        } else if (s.parent instanceof ArrayNode a) {
            a.remove(s.index);
        }
    }

    private static void put(Slot s, JsonNode value) {
        if (s.parent instanceof ObjectNode p) {
            p.set(s.field, value);
        } else if (s.parent instanceof ArrayNode a) {
            a.set(s.index, value);
        }
    }
}
