package dev.finetune.trainer.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.validation.FineTuneJobValidator;
import dev.finetune.api.validation.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The job a command works on: a FineTuneJob YAML validated as {@code kubectl apply} would validate it, with
 * every PVC mapped to a local directory, or a trainer config JSON as the operator writes it. Every mistake
 * is a {@link CliException} naming the file (line and column for syntax), the field or the volume.
 */
final class JobInput {

    /** The CRD's schema and rules, parsed once per process. */
    private static final class Validator {
        static final FineTuneJobValidator INSTANCE = new FineTuneJobValidator();
    }

    private JobInput() {
    }

    /**
     * @param job        JOB.yaml, or null with {@code configFile}
     * @param volumes    PVC claimName → local directory
     * @param configFile trainer config JSON, or null with {@code job}
     * @param resumeFrom what the config's resumeFrom becomes for a YAML job (null: start fresh)
     */
    static TrainerConfig load(Path job, Map<String, Path> volumes, Path configFile, String resumeFrom) {
        return load(job, volumes, configFile, resumeFrom, false);
    }

    /**
     * @param outputOptional true for commands that write nothing: a claim only spec.output uses may be left
     *                       unmapped (its path is then a placeholder nothing reads or writes)
     */
    static TrainerConfig load(Path job, Map<String, Path> volumes, Path configFile, String resumeFrom,
            boolean outputOptional) {
        if (job != null && configFile != null) {
            throw CliException.usage("give JOB.yaml or --config FILE, not both", null);
        }
        if (configFile != null) {
            return readConfig(configFile);
        }
        if (job == null) {
            throw CliException.usage("give JOB.yaml (a FineTuneJob) or --config FILE (a trainer config)", null);
        }
        JsonNode manifest = readManifest(job);
        FineTuneJobValidator validator = Validator.INSTANCE;
        List<Violation> violations = validator.validateCreate(manifest);
        if (!violations.isEmpty()) {
            throw CliException.of(FailureReason.BAD_CONFIG, job + " is not a valid FineTuneJob:\n" + violations.stream()
                    .map(v -> "  " + v).collect(Collectors.joining("\n")), FailureReason.BAD_CONFIG.hint());
        }
        FineTuneJob parsed;
        try {
            parsed = TrainerJson.json().treeToValue(validator.withDefaults(manifest), FineTuneJob.class);
        } catch (JsonProcessingException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, job + ": " + e.getOriginalMessage(), FailureReason.BAD_CONFIG.hint(), e);
        }
        Map<String, Path> roots = new LinkedHashMap<>(volumes);
        var spec = parsed.getSpec();
        // one claim may hold both the model and the dataset (Set.of would refuse the duplicate with an exception)
        Set<String> read = new HashSet<>(List.of(spec.getModel().getPvc().getClaimName(),
                spec.getDataset().getPvc().getClaimName()));
        return TrainerConfigs.forLocalRun(parsed, claim -> {
            Path root = roots.get(claim);
            if (root == null && outputOptional && !read.contains(claim)) {
                return Path.of("/unmapped-volume-" + claim);
            }
            if (root == null) {
                throw CliException.of(FailureReason.BAD_CONFIG, job + ": the job uses PVC \"" + claim + "\", which no --volume maps",
                        "map it to a directory with --volume " + claim + "=<dir> (mapped: " + roots.keySet() + ")");
            }
            return root.toAbsolutePath();
        }, resumeFrom);
    }

    /**
     * The one manifest in {@code job}. A key given twice in one mapping is refused (YAML would keep only the last,
     * silently dropping the settings under the first), and so is a second document after {@code ---}: a run trains
     * one FineTuneJob, and {@code kubectl apply} would create every document in the file.
     */
    private static JsonNode readManifest(Path job) {
        String text = read(job, "JOB.yaml");
        JsonNode manifest;
        try (JsonParser documents = TrainerJson.yaml().getFactory().createParser(text)) {
            documents.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            Document first = nextDocument(documents);
            manifest = first == null ? null : first.node();
            Document second = nextDocument(documents);
            if (second != null) {
                throw CliException.of(FailureReason.BAD_CONFIG, job + ":" + second.line() + ": a second YAML document "
                        + "(after ---); finetune run runs one FineTuneJob per file",
                        "put each FineTuneJob in its own file and run them one by one");
            }
        } catch (JsonProcessingException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, job + yamlProblem(e), yamlHint(e), e);
        } catch (IOException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, "cannot read " + job + ": " + e.getMessage(),
                    "check the file's permissions", e);
        }
        if (manifest == null) {
            throw CliException.of(FailureReason.BAD_CONFIG, job + ": the file is empty",
                    "write a FineTuneJob manifest (examples/quickstart/finetunejob.yaml is one)");
        }
        return manifest;
    }

    /** One document of a YAML stream and the line it starts on. */
    private record Document(JsonNode node, int line) {
    }

    /** The next document that holds anything (an empty one, as after a trailing {@code ---}, is skipped), or null. */
    private static Document nextDocument(JsonParser documents) throws IOException {
        while (documents.nextToken() != null) {
            JsonLocation start = documents.currentTokenLocation();
            JsonNode document = TrainerJson.yaml().readTree(documents);
            if (document != null && !document.isMissingNode() && !document.isNull()) {
                return new Document(document, start.getLineNr());
            }
        }
        return null;
    }

    private static String yamlHint(JsonProcessingException e) {
        return isDuplicateKey(e) ? "keep one of the two (merge their settings under the one you keep)"
                : "fix the YAML at that position";
    }

    private static boolean isDuplicateKey(JsonProcessingException e) {
        return e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field ");
    }

    private static TrainerConfig readConfig(Path file) {
        String text = read(file, "--config");
        try {
            TrainerConfig config = TrainerJson.json().readValue(text, TrainerConfig.class);
            if (config == null || config.paths() == null || config.spec() == null) {
                throw CliException.of(FailureReason.BAD_CONFIG, file + ": a trainer config needs \"paths\" and \"spec\"",
                        "pass the trainer-config.json the operator writes, or run a FineTuneJob YAML with JOB.yaml");
            }
            return config;
        } catch (JsonProcessingException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, file + syntaxLocation(e) + ": not a valid trainer config: "
                    + e.getOriginalMessage(), "pass the trainer-config.json the operator writes", e);
        }
    }

    private static String read(Path file, String what) {
        if (Files.isDirectory(file)) {
            throw CliException.usage(what + " " + file + " is a directory, not a file", null);
        }
        if (!Files.exists(file)) {
            throw CliException.usage(what + " " + file + " does not exist", null);
        }
        try {
            return Files.readString(file);
        } catch (java.nio.charset.MalformedInputException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, file + ": not UTF-8 text", "save the file as UTF-8");
        } catch (IOException e) {
            throw CliException.of(FailureReason.BAD_CONFIG, "cannot read " + file + ": " + e.getMessage(),
                    "check the file's permissions", e);
        }
    }

    /** {@code :line:column: not valid YAML: problem (context)} from the YAML parser's own marks, on one line. */
    private static String yamlProblem(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
                String context = m.getContext() == null || m.getContextMark() == null ? ""
                        : " (" + m.getContext() + " at line " + (m.getContextMark().getLine() + 1) + ", column "
                        + (m.getContextMark().getColumn() + 1) + ")";
                return ":" + (m.getProblemMark().getLine() + 1) + ":" + (m.getProblemMark().getColumn() + 1)
                        + ": not valid YAML: " + m.getProblem() + context;
            }
        }
        if (isDuplicateKey(e)) {
            String key = e.getOriginalMessage().substring("Duplicate field ".length());
            return syntaxLocation(e) + ": key " + key + " appears twice in the same mapping; YAML would keep only the "
                    + "second and silently drop what the first sets";
        }
        return syntaxLocation(e) + ": not valid YAML: " + e.getOriginalMessage().replaceAll("\\s*\n\\s*", " ");
    }

    private static String syntaxLocation(JsonProcessingException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() <= 0 ? ""
                : ":" + e.getLocation().getLineNr() + ":" + e.getLocation().getColumnNr();
    }
}
