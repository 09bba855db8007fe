package dev.finetune.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.extensions.CelExtensions;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluates the schema's {@code x-kubernetes-validations} CEL rules as the API server does: each rule
 * runs at its own node with {@code self} bound to the value there; transition rules (those naming
 * {@code oldSelf}) run only on updates where the old object has a value at the same place.
 */
final class CelRules {

    private static final CelOptions OPTIONS = CelOptions.current()
            .enableHeterogeneousNumericComparisons(true)
            .build();
    private static final Cel CEL = CelFactory.standardCelBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("self", SimpleType.DYN)
            .addVar("oldSelf", SimpleType.DYN)
            .addCompilerLibraries(CelExtensions.strings())
            .addRuntimeLibraries(CelExtensions.strings())
            .build();
    private static final Map<String, CelRuntime.Program> PROGRAMS = new ConcurrentHashMap<>();

    private CelRules() {
    }

    /** Runs every rule under {@code schema} against {@code value} (and {@code old}, on updates; else null). */
    static void check(JsonNode schema, JsonNode value, JsonNode old, String path, List<Violation> out) {
        if (value == null || value.isMissingNode()) {
            return;
        }
        for (JsonNode rule : schema.path("x-kubernetes-validations")) {
            String expression = rule.path("rule").asText();
            boolean transition = expression.contains("oldSelf");
            if (transition && (old == null || old.isMissingNode())) {
                continue;
            }
            Map<String, Object> variables = new HashMap<>();
            variables.put("self", toCel(schema, value));
            if (transition) {
                variables.put("oldSelf", toCel(schema, old));
            }
            Object result;
            try {
                result = program(expression).eval(variables);
            } catch (CelEvaluationException e) {
                out.add(new Violation(path, "Invalid value: \"object\": rule " + expression + " could not be evaluated: "
                        + e.getMessage()));
                continue;
            }
            if (!Boolean.TRUE.equals(result)) {
                out.add(new Violation(path, "Invalid value: \"" + kind(value) + "\": " + rule.path("message").asText(expression)));
            }
        }
        JsonNode properties = schema.path("properties");
        if (value.isObject()) {
            value.fields().forEachRemaining(field -> {
                JsonNode childSchema = properties.has(field.getKey()) ? properties.get(field.getKey())
                        : schema.get("additionalProperties");
                if (childSchema != null && childSchema.isObject()) {
                    JsonNode oldChild = old == null ? null : old.get(field.getKey());
                    check(childSchema, field.getValue(), oldChild, path + "." + field.getKey(), out);
                }
            });
        } else if (value.isArray() && schema.has("items")) {
            // Old list items are not correlated (no list-type map here), so transition rules inside lists do not run.
            for (int i = 0; i < value.size(); i++) {
                check(schema.get("items"), value.get(i), null, path + "[" + i + "]", out);
            }
        }
    }

    private static String kind(JsonNode value) {
        return value.isObject() ? "object" : value.isArray() ? "array" : value.asText();
    }

    private static CelRuntime.Program program(String expression) {
        return PROGRAMS.computeIfAbsent(expression, source -> {
            try {
                CelAbstractSyntaxTree ast = CEL.compile(source).getAst();
                return CEL.createProgram(ast);
            } catch (CelValidationException | CelEvaluationException e) {
                throw new IllegalStateException("CRD rule does not compile: " + source + ": " + e.getMessage(), e);
            }
        });
    }

    /** The CEL value of a JSON node: integers are int, "number" fields double (even when written 1), objects maps. */
    static Object toCel(JsonNode schema, JsonNode value) {
        if (value.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            JsonNode properties = schema.path("properties");
            value.fields().forEachRemaining(field -> {
                JsonNode childSchema = properties.has(field.getKey()) ? properties.get(field.getKey())
                        : schema.path("additionalProperties");
                map.put(field.getKey(), toCel(childSchema, field.getValue()));
            });
            return map;
        }
        if (value.isArray()) {
            List<Object> list = new ArrayList<>();
            value.forEach(item -> list.add(toCel(schema.path("items"), item)));
            return list;
        }
        if (value.isNumber()) {
            return "number".equals(schema.path("type").asText()) ? (Object) value.asDouble() : (Object) value.asLong();
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        return value.asText();
    }
}
