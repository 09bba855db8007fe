package dev.finetune.trainer.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The run an output directory holds: its checkpoints and what it wrote (adapters, merged model, report,
 * manifest, progress). One output directory holds one lineage, so that "the newest checkpoint" is always the
 * newest of the run that continues: a fresh start moves an earlier lineage aside into
 * {@code previous-runs/<UTC time>/} instead of mixing its checkpoints with the new run's. A lineage is finished
 * when its manifest (written last) records the step of its newest checkpoint; run again with the same spec, it
 * is reported and left as it is, while a changed spec (more epochs, a higher maxSteps) continues it.
 */
public final class RunLineage {

    /** Where a fresh start moves an earlier run, inside the output directory. */
    public static final String PREVIOUS = "previous-runs";
    /** What a run writes into its output directory, in the order a listing shows it. */
    static final List<String> ENTRIES = List.of(TrainingCheckpoint.DIR, "adapter", "adapter-best", "epochs", "merged",
            "report.html", "manifest.json", "progress.json");
    /** Entries that mean a run trained here (a progress.json alone is a run that failed before training). */
    private static final List<String> TRAINED = List.of(TrainingCheckpoint.DIR, "adapter", "adapter-best", "epochs",
            "merged", "manifest.json");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** A finished run: its manifest and the step it ended at. */
    public record Finished(Path manifest, JsonNode content, long steps) {

        /**
         * Where {@code spec} differs from the spec the run was trained with (a.b.c: was -> now), at most 8; empty
         * when it is the same job.
         */
        public List<String> specChanges(FineTuneJobSpec spec) {
            return differences(content.path("spec"), TrainerJson.json().valueToTree(spec), 8);
        }
    }

    private RunLineage() {
    }

    /** The entries of a run in {@code outputDir}, or none when no run trained there. */
    public static List<String> entries(Path outputDir) {
        if (TRAINED.stream().noneMatch(e -> Files.exists(outputDir.resolve(e)))) {
            return List.of();
        }
        return ENTRIES.stream().filter(e -> Files.exists(outputDir.resolve(e))).toList();
    }

    /** Where {@link #moveAside} would move the run now. */
    public static Path destination(Path outputDir, Instant now) {
        Path base = outputDir.resolve(PREVIOUS).resolve(STAMP.format(now));
        Path target = base;
        for (int n = 2; Files.exists(target); n++) {
            target = base.resolveSibling(base.getFileName() + "-" + n);
        }
        return target;
    }

    /**
     * Moves the run in {@code outputDir} (every entry of {@link #entries}) into {@code previous-runs/<UTC time>/};
     * returns that directory, or empty when there was no run.
     */
    public static Optional<Path> moveAside(Path outputDir, Instant now) {
        List<String> entries = entries(outputDir);
        if (entries.isEmpty()) {
            return Optional.empty();
        }
        Path target = destination(outputDir, now);
        List<String> moved = new ArrayList<>();
        try {
            Files.createDirectories(target);
            for (String e : entries) {
                Files.move(outputDir.resolve(e), target.resolve(e));
                moved.add(e);
            }
        } catch (IOException e) {
            throw new OutputWriteException("the earlier run (moving " + entries + " aside; moved: " + moved + ")", target, e);
        }
        return Optional.of(target);
    }

    /**
     * The finished run in {@code outputDir}: manifest.json records the step of the newest checkpoint (or there is no
     * checkpoint left). A newer checkpoint means training went on after the manifest was written, so it is not
     * finished.
     */
    public static Optional<Finished> finished(Path outputDir) {
        Path manifest = outputDir.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            return Optional.empty();
        }
        JsonNode content;
        try {
            content = TrainerJson.json().readTree(manifest.toFile());
        } catch (IOException e) {
            return Optional.empty();
        }
        if (content == null || !content.path("steps").canConvertToLong()) {
            return Optional.empty();
        }
        long steps = content.path("steps").asLong();
        try {
            Optional<Path> latest = TrainingCheckpoint.latest(outputDir);
            if (latest.isPresent() && TrainingCheckpoint.readState(latest.get()).state().globalStep() != steps) {
                return Optional.empty();
            }
        } catch (UncheckedIOException unreadable) {
            // not provably finished: resuming reports the unreadable checkpoint
            return Optional.empty();
        }
        return Optional.of(new Finished(manifest, content, steps));
    }

    /** Lists a directory's entries for a log line ({@code checkpoints/, adapter/, manifest.json}). */
    static String describe(Path dir, List<String> entries) {
        return String.join(", ", entries.stream().map(e -> Files.isDirectory(dir.resolve(e)) ? e + "/" : e).toList());
    }

    /** Creates the output directory, or says why it cannot be. */
    static void requireDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new OutputWriteException("the output directory", dir, e);
        }
    }

    /** The paths (a.b.c) where two JSON trees differ, at most {@code limit} of them. */
    static List<String> differences(JsonNode was, JsonNode now, int limit) {
        List<String> out = new ArrayList<>();
        diff("", was, now, out, limit);
        return out;
    }

    private static void diff(String path, JsonNode a, JsonNode b, List<String> out, int limit) {
        if (out.size() >= limit || Objects.equals(a, b)) {
            return;
        }
        if (a != null && b != null && a.isNumber() && b.isNumber() && a.decimalValue().compareTo(b.decimalValue()) == 0) {
            return;
        }
        if (a != null && b != null && a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                diff(path + "[" + i + "]", a.get(i), b.get(i), out, limit);
            }
            return;
        }
        if (a != null && b != null && a.isObject() && b.isObject()) {
            Set<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                diff(path.isEmpty() ? n : path + "." + n, a.get(n), b.get(n), out, limit);
            }
            return;
        }
        out.add(path + ": " + text(a) + " -> " + text(b));
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "unset" : n.toString();
    }
}
