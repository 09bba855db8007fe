package dev.finetune.trainer.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where {@code finetune merge} may write: the merged model replaces {@code --out} as a whole, so {@code --out}
 * must not be, hold or lie inside the base model or the adapter (symbolic links resolved), and an existing
 * {@code --out} must be empty or hold only a model directory's files (an earlier merge).
 */
final class MergeTarget {

    /** The files of a Hugging Face model directory, which a merge may replace. */
    static final Set<String> MODEL_FILES = Set.of("config.json", "generation_config.json", "model.safetensors",
            "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json");

    private MergeTarget() {
    }

    /** Throws a usage error naming both paths when {@code out} overlaps the inputs or holds something else. */
    static void check(Path model, Path adapter, Path out) {
        overlap("--model", model, out);
        overlap("--adapter", adapter, out);
        if (Files.isRegularFile(out)) {
            throw CliException.usage("--out " + out + " is a file", "give a directory to write the merged model into");
        }
        if (Files.isDirectory(out)) {
            List<String> foreign = entries(out).stream().filter(n -> !MODEL_FILES.contains(n) && !n.endsWith(".safetensors"))
                    .toList();
            if (!foreign.isEmpty()) {
                throw CliException.usage("--out " + out + " already holds files that are not a model's " + foreign.stream()
                        .limit(5).toList() + "; the merge replaces the whole directory",
                        "give a new or empty directory, or an earlier merge's output");
            }
        }
    }

    private static void overlap(String option, Path input, Path out) {
        Path in = real(input);
        Path o = real(out);
        if (o.equals(in)) {
            throw CliException.usage("--out " + out + " is the " + option + " directory " + input
                    + "; the merge would overwrite it", "write the merged model to a new directory");
        }
        if (o.startsWith(in)) {
            throw CliException.usage("--out " + out + " is inside the " + option + " directory " + input,
                    "write the merged model to a directory outside it");
        }
        if (in.startsWith(o)) {
            throw CliException.usage("--out " + out + " contains the " + option + " directory " + input
                    + "; the merge replaces --out as a whole and would delete it", "write the merged model to a new directory");
        }
    }

    /** The path with every existing part's symbolic links resolved (the rest appended as given). */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    private static List<String> entries(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
