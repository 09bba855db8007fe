package dev.finetune.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.v1alpha1.FineTuneJob;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks a FineTuneJob manifest against the CRD's schema and CEL rules without an API server: what
 * {@code kubectl apply} would reject, {@code finetune run} rejects too, with the same words. The
 * operator does not need this (the API server already ran the same rules).
 */
public final class FineTuneJobValidator {

    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final int MAX_NAME_LENGTH = 253;

    private final JsonNode schema;

    public FineTuneJobValidator() {
        this(CrdSchema.openApiV3Schema(CrdSchema.crd()));
    }

    FineTuneJobValidator(JsonNode openApiV3Schema) {
        this.schema = openApiV3Schema;
    }

    /** The manifest as the API server would store it on create: nulls dropped, defaults filled in. */
    public ObjectNode withDefaults(JsonNode manifest) {
        ObjectNode copy = manifest.deepCopy();
        StructuralSchema.applyDefaults(schema, copy);
        return copy;
    }

    /** Why the API server would refuse to create this manifest; empty when it would accept it. */
    public List<Violation> validateCreate(JsonNode manifest) {
        return validate(manifest, null);
    }

    /** Why the API server would refuse to replace {@code oldManifest} with {@code newManifest}. */
    public List<Violation> validateUpdate(JsonNode oldManifest, JsonNode newManifest) {
        return validate(newManifest, withDefaults(oldManifest));
    }

    /**
     * The API server's own rule for a custom resource's name (a DNS subdomain: lowercase letters, digits, '-' and '.',
     * at most 253 characters), worded as it words it. The operator asks more of a name (a DNS label short enough for the
     * worker pods' names) and says so in the job's Validated condition.
     */
    private static void checkName(JsonNode metadata, List<Violation> violations) {
        JsonNode name = metadata.path("name");
        if (!name.isTextual() || name.asText().isEmpty()) {
            if (!metadata.path("generateName").isTextual()) {
                violations.add(new Violation("metadata.name", name.isMissingNode() || name.isNull() || name.isTextual()
                        ? "Required value: name or generateName is required"
                        : "Invalid value: " + name + ": metadata.name must be a string"));
            }
            return;
        }
        String text = name.asText();
        if (text.length() > MAX_NAME_LENGTH) {
            violations.add(new Violation("metadata.name", "Invalid value: \"" + text + "\": must be no more than "
                    + MAX_NAME_LENGTH + " characters"));
        } else if (!DNS_SUBDOMAIN.matcher(text).matches()) {
            violations.add(new Violation("metadata.name", "Invalid value: \"" + text + "\": a lowercase RFC 1123 subdomain "
                    + "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
                    + "alphanumeric character (e.g. 'example.com', regex used for validation is '" + DNS_SUBDOMAIN.pattern() + "')"));
        }
    }

    private List<Violation> validate(JsonNode manifest, JsonNode old) {
        List<Violation> violations = new ArrayList<>();
        if (!manifest.isObject()) {
            violations.add(new Violation("(root)", "a FineTuneJob manifest must be a YAML/JSON object"));
            return violations;
        }
        if (!FineTuneJob.API_VERSION.equals(manifest.path("apiVersion").asText())) {
            violations.add(new Violation("apiVersion", "must be " + FineTuneJob.API_VERSION + ", was \""
                    + manifest.path("apiVersion").asText() + "\""));
        }
        if (!"FineTuneJob".equals(manifest.path("kind").asText())) {
            violations.add(new Violation("kind", "must be FineTuneJob, was \"" + manifest.path("kind").asText() + "\""));
        }
        checkName(manifest.path("metadata"), violations);
        ObjectNode defaulted = withDefaults(manifest);
        JsonNode specSchema = schema.path("properties").path("spec");
        if (!defaulted.has("spec")) {
            violations.add(new Violation("spec", "Required value"));
            return violations;
        }
        List<Violation> structural = new ArrayList<>();
        StructuralSchema.check(specSchema, defaulted.get("spec"), "spec", structural);
        violations.addAll(structural);
        if (structural.isEmpty()) {
            // Like the API server, rules run only on a structurally valid object (else they might see wrong types).
            CelRules.check(specSchema, defaulted.get("spec"), old == null ? null : old.get("spec"), "spec", violations);
        }
        return violations;
    }
}
