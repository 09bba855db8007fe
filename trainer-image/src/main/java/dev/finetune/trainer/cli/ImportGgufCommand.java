package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.gguf.GgufFormatException;
import dev.finetune.trainer.gguf.GgufImporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune import-gguf}: a llama.cpp / Ollama GGUF model into a Hugging Face model directory. */
@Command(name = "import-gguf", description = {"Converts a GGUF model (llama, qwen2, qwen3; F32/F16/BF16/Q8_0/Q4_0/Q4_1/Q4_K/Q6_K)",
        "into a Hugging Face model directory that `finetune run` and Transformers load."})
final class ImportGgufCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "the .gguf file")
    Path file;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "a new or empty directory")
    Path out;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "bf16|fp32",
            description = "precision of the written weights (default ${DEFAULT-VALUE}); fp32 keeps the dequantised values exactly")
    String dtype;

    @Override
    public Integer call() throws IOException {
        GgufImporter.Precision precision;
        try {
            precision = GgufImporter.Precision.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--dtype " + e.getMessage(), null);
        }
        if (!Files.isRegularFile(file)) {
            throw CliException.usage(file + (Files.exists(file) ? " is not a file" : " does not exist"), "give a .gguf model file");
        }
        if (Files.exists(out) && (!Files.isDirectory(out) || !isEmpty(out))) {
            throw CliException.usage("--out " + out + (Files.isDirectory(out) ? " is not empty" : " is a file"),
                    "give a new or empty directory");
        }
        GgufImporter.Summary s;
        try {
            s = GgufImporter.importModel(file, out, precision);
        } catch (GgufFormatException e) {
            throw CliException.of(FailureReason.BAD_MODEL, e.getMessage(),
                    "use a complete GGUF file of a supported architecture and tensor type (see docs/models.md)", e);
        }
        System.out.printf(Locale.ROOT, "imported %s: %s, %d tensors (%s), %,d parameters, vocab %d, stored as %s%n",
                file.getFileName(), s.architecture(), s.tensors(), s.sourceTypes(), s.parameters(), s.vocabSize(),
                precision.name().toLowerCase(Locale.ROOT));
        System.out.println("model directory: " + out);
        return 0;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
