package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.gguf.GgufExporter;
import dev.finetune.trainer.gguf.GgufFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code finetune export-gguf}: a model directory, or a LoRA adapter, as a llama.cpp / Ollama GGUF file. */
@Command(name = "export-gguf", description = {"Writes a Hugging Face model directory (e.g. from `finetune merge`) as a GGUF",
        "model (f16, q8_0 or f32), or with --adapter a LoRA adapter as llama.cpp's GGUF LoRA adapter."})
final class ExportGgufCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model directory (the adapter's base with --adapter)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "export this PEFT LoRA adapter instead of the model")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the .gguf file to write")
    Path out;

    @Option(names = "--type", defaultValue = "f16", paramLabel = "f16|q8_0|f32",
            description = "tensor type of the model's matrices (default ${DEFAULT-VALUE}); adapters are written f32")
    String type;

    @Override
    public Integer call() throws IOException {
        String t = type.toLowerCase(Locale.ROOT);
        if (!t.equals("f16") && !t.equals("q8_0") && !t.equals("f32")) {
            throw CliException.usage("--type " + type + ": use f16, q8_0 or f32", null);
        }
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw CliException.usage("--model " + model + " has no config.json", "give a Hugging Face model directory");
        }
        if (Files.isDirectory(out)) {
            throw CliException.usage("--out " + out + " is a directory", "give the path of the .gguf file to write");
        }
        GgufExporter.Summary s;
        try {
            s = adapter != null ? GgufExporter.exportAdapter(adapter, model, out)
                    : GgufExporter.exportModel(model, out, t);
        } catch (GgufFormatException e) {
            throw CliException.of(FailureReason.BAD_MODEL, e.getMessage(), "see docs/models.md for what export supports", e);
        }
        System.out.printf(Locale.ROOT, "wrote %s: %s %s, %d tensors %s%n", out, s.architecture(),
                adapter != null ? "LoRA adapter" : "model", s.tensors(), s.types());
        return 0;
    }
}
