package dev.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The argocd binary (Argo CD v3.6.2 built from the Go module proxy by e2e/argocd/build.sh, cached; or the one
 * {@code -De2e.argocd=<path>} names) and the project's Argo CD configuration: the FineTuneJob check in upstream's
 * layout and argocd-cm carrying it.
 */
final class ArgoCdTool {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final String CHECK_DIR = "deploy/argocd/resource_customizations/finetune.dev/FineTuneJob";
    /** What the restart action writes: the time it ran (the operator acts on each new value once). */
    static final String RESTART_ANNOTATION = "finetune.dev/restart-requested-at";
    /** The restart time as the expected outputs of action_test.yaml write it (upstream's convention). */
    static final String ANY_TIME = "0001-01-01T00:00:00Z";
    private static final Pattern UTC_TIME = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");

    private ArgoCdTool() {
    }

    /** The binary: -De2e.argocd, else e2e/argocd/build.sh's last line (cold build ~6-8 min, then cached). */
    static Path binary(Path repo) {
        String given = System.getProperty("e2e.argocd", "");
        if (!given.isBlank()) {
            Path path = Path.of(given);
            if (!Files.isExecutable(path)) {
                throw new IllegalStateException("-De2e.argocd=" + given + " is not an executable file");
            }
            return path;
        }
        String out = Processes.run(repo, Duration.ofMinutes(30), List.of("bash", "e2e/argocd/build.sh")).strip();
        return Path.of(out.substring(out.lastIndexOf('\n') + 1));
    }

    /**
     * The restart time an action wrote, checked (RFC 3339 in UTC, within a minute of now) and replaced by
     * {@link #ANY_TIME}, so the result compares with the expected output; anything else is returned as it is.
     */
    static String anyRestartTime(String written) {
        if (!UTC_TIME.matcher(written).matches()) {
            throw new AssertionError(RESTART_ANNOTATION + " is \"" + written + "\", not an RFC 3339 time in UTC");
        }
        Duration off = Duration.between(Instant.parse(written), Instant.now()).abs();
        if (off.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new AssertionError(RESTART_ANNOTATION + " is " + written + ", " + off + " away from now");
        }
        return ANY_TIME;
    }

    /** A copy of the resource with a restart time in its annotations replaced by {@link #anyRestartTime}. */
    static JsonNode withAnyRestartTime(JsonNode resource) {
        JsonNode copy = resource.deepCopy();
        JsonNode annotations = copy.at("/metadata/annotations");
        if (annotations.isObject() && annotations.has(RESTART_ANNOTATION)) {
            ((ObjectNode) annotations).put(RESTART_ANNOTATION, anyRestartTime(annotations.get(RESTART_ANNOTATION).asText()));
        }
        return copy;
    }

    static JsonNode yaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " as YAML: " + e.getMessage(), e);
        }
    }

    /** argocd-cm (namespace argocd) with the data of deploy/argocd/argocd-cm-patch.yaml, written to file. */
    static ObjectNode argocdCm(Path repo) {
        ObjectNode cm = YAML.createObjectNode();
        cm.put("apiVersion", "v1").put("kind", "ConfigMap");
        cm.putObject("metadata").put("name", "argocd-cm").put("namespace", "argocd")
                .putObject("labels").put("app.kubernetes.io/part-of", "argocd");
        cm.set("data", yaml(repo.resolve("deploy/argocd/argocd-cm-patch.yaml")).get("data").deepCopy());
        return cm;
    }

    static Path write(JsonNode node, Path file) {
        try {
            Files.createDirectories(file.getParent());
            YAML.writeValue(file.toFile(), node);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
