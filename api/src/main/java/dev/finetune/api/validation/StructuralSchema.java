package dev.finetune.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the API server does with a structural schema before CEL runs: drop nulls, apply defaults, and
 * check types, enums, bounds, lengths, patterns and required fields. Unknown fields are errors here,
 * as with {@code kubectl apply --validate=strict}, because a misspelt field silently ignored is exactly
 * the kind of mistake that costs a training run.
 */
final class StructuralSchema {

    private StructuralSchema() {
    }

    /** Fills in schema defaults, in place, the way the API server does on create. */
    static void applyDefaults(JsonNode schema, JsonNode value) {
        if (value instanceof ObjectNode object) {
            dropNulls(object);
            JsonNode properties = schema.path("properties");
            for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> property = it.next();
                JsonNode defaultValue = property.getValue().get("default");
                if (!object.has(property.getKey()) && defaultValue != null) {
                    object.set(property.getKey(), defaultValue.deepCopy());
                }
                if (object.has(property.getKey())) {
                    applyDefaults(property.getValue(), object.get(property.getKey()));
                }
            }
            JsonNode additional = schema.get("additionalProperties");
            if (additional != null && additional.isObject()) {
                object.forEach(child -> applyDefaults(additional, child));
            }
        } else if (value instanceof ArrayNode array && schema.has("items")) {
            array.forEach(item -> applyDefaults(schema.get("items"), item));
        }
    }

    private static void dropNulls(ObjectNode object) {
        List<String> nulls = new ArrayList<>();
        object.fields().forEachRemaining(e -> {
            if (e.getValue().isNull()) {
                nulls.add(e.getKey());
            }
        });
        nulls.forEach(object::remove);
    }

    /** Checks {@code value} against {@code schema}, adding what is wrong to {@code out}. */
    static void check(JsonNode schema, JsonNode value, String path, List<Violation> out) {
        if (!hasType(schema, value)) {
            out.add(new Violation(path, "Invalid value: \"" + jsonType(value) + "\": " + path + " in body must be of type "
                    + expectedType(schema) + ": " + shortText(value)));
            return;
        }
        checkEnum(schema, value, path, out);
        if (value.isNumber()) {
            checkBounds(schema, value, path, out);
        } else if (value.isTextual()) {
            checkString(schema, value.asText(), path, out);
        } else if (value.isObject()) {
            checkObject(schema, (ObjectNode) value, path, out);
        } else if (value.isArray()) {
            checkArray(schema, (ArrayNode) value, path, out);
        }
    }

    private static boolean hasType(JsonNode schema, JsonNode value) {
        if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
            return value.isIntegralNumber() || value.isTextual();
        }
        return switch (schema.path("type").asText("")) {
            case "integer" -> value.isIntegralNumber();
            case "number" -> value.isNumber();
            case "string" -> value.isTextual();
            case "boolean" -> value.isBoolean();
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            default -> true;
        };
    }

    private static String expectedType(JsonNode schema) {
        return schema.path("x-kubernetes-int-or-string").asBoolean(false) ? "integer or string" : schema.path("type").asText();
    }

    private static String jsonType(JsonNode value) {
        if (value.isIntegralNumber()) {
            return "integer";
        }
        if (value.isNumber()) {
            return "number";
        }
        return value.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String shortText(JsonNode value) {
        String text = value.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    private static void checkEnum(JsonNode schema, JsonNode value, String path, List<Violation> out) {
        JsonNode allowed = schema.get("enum");
        if (allowed == null) {
            return;
        }
        for (JsonNode option : allowed) {
            if (option.equals(value)) {
                return;
            }
        }
        List<String> options = new ArrayList<>();
        allowed.forEach(option -> options.add(option.toString()));
        out.add(new Violation(path, "Unsupported value: " + value + ": supported values: " + String.join(", ", options)));
    }

    private static void checkBounds(JsonNode schema, JsonNode value, String path, List<Violation> out) {
        double number = value.asDouble();
        if (schema.has("minimum")) {
            double min = schema.get("minimum").asDouble();
            boolean exclusive = schema.path("exclusiveMinimum").asBoolean(false);
            if (exclusive ? number <= min : number < min) {
                out.add(new Violation(path, "Invalid value: " + value + ": " + path + " in body should be greater than "
                        + (exclusive ? "" : "or equal to ") + plain(min)));
            }
        }
        if (schema.has("maximum")) {
            double max = schema.get("maximum").asDouble();
            boolean exclusive = schema.path("exclusiveMaximum").asBoolean(false);
            if (exclusive ? number >= max : number > max) {
                out.add(new Violation(path, "Invalid value: " + value + ": " + path + " in body should be less than "
                        + (exclusive ? "" : "or equal to ") + plain(max)));
            }
        }
    }

    private static String plain(double bound) {
        return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
    }

    private static void checkString(JsonNode schema, String text, String path, List<Violation> out) {
        int length = text.codePointCount(0, text.length());
        if (schema.has("minLength") && length < schema.get("minLength").asInt()) {
            out.add(new Violation(path, "Invalid value: \"" + text + "\": " + path + " in body should be at least "
                    + schema.get("minLength").asInt() + " chars long"));
        }
        if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) {
            out.add(new Violation(path, "Too long: may not be more than " + schema.get("maxLength").asInt() + " bytes"));
        }
        if (schema.has("pattern") && !Pattern.compile(schema.get("pattern").asText()).matcher(text).find()) {
            out.add(new Violation(path, "Invalid value: \"" + text + "\": " + path + " in body should match '"
                    + schema.get("pattern").asText() + "'"));
        }
    }

    private static void checkObject(JsonNode schema, ObjectNode object, String path, List<Violation> out) {
        for (JsonNode required : schema.path("required")) {
            if (!object.has(required.asText())) {
                out.add(new Violation(path + "." + required.asText(), "Required value"));
            }
        }
        if (schema.has("maxProperties") && object.size() > schema.get("maxProperties").asInt()) {
            out.add(new Violation(path, "Too many: " + object.size() + ": must have at most "
                    + schema.get("maxProperties").asInt() + " items"));
        }
        JsonNode properties = schema.path("properties");
        JsonNode additional = schema.get("additionalProperties");
        boolean preserveUnknown = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        object.fields().forEachRemaining(field -> {
            String childPath = path + "." + field.getKey();
            if (properties.has(field.getKey())) {
                check(properties.get(field.getKey()), field.getValue(), childPath, out);
            } else if (additional != null && additional.isObject()) {
                check(additional, field.getValue(), childPath, out);
            } else if (!preserveUnknown && (schema.has("properties") || additional != null)) {
                out.add(new Violation(childPath, "field not declared in schema"));
            }
        });
    }

    private static void checkArray(JsonNode schema, ArrayNode array, String path, List<Violation> out) {
        if (schema.has("minItems") && array.size() < schema.get("minItems").asInt()) {
            out.add(new Violation(path, "Invalid value: " + array.size() + ": " + path + " in body should have at least "
                    + schema.get("minItems").asInt() + " items"));
        }
        if (schema.has("maxItems") && array.size() > schema.get("maxItems").asInt()) {
            out.add(new Violation(path, "Too many: " + array.size() + ": must have at most "
                    + schema.get("maxItems").asInt() + " items"));
        }
        JsonNode items = schema.get("items");
        if (items != null) {
            for (int i = 0; i < array.size(); i++) {
                check(items, array.get(i), path + "[" + i + "]", out);
            }
        }
    }
}
