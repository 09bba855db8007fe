package dev.finetune.trainer.gguf;

import static dev.finetune.trainer.cli.CliHarness.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.cli.CliHarness.Outcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code finetune import-gguf}: what it prints, writes, and how it fails. */
class ImportGgufCliTest {

    @TempDir
    Path dir;

    @Test
    void importsAModelDirectory() throws IOException {
        Path gguf = GgufImporterTest.tiny("llama", "smollm").writer().write(dir.resolve("tiny.gguf"));
        Outcome o = cli("import-gguf", gguf.toString(), "--out", dir.resolve("model").toString(), "--dtype", "fp32");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("imported tiny.gguf: llama, 11 tensors ({F32=11})").contains("stored as fp32");
        assertThat(dir.resolve("model")).isDirectoryContaining("glob:**/model.safetensors")
                .isDirectoryContaining("glob:**/config.json").isDirectoryContaining("glob:**/tokenizer.json")
                .isDirectoryContaining("glob:**/tokenizer_config.json").isDirectoryContaining("glob:**/generation_config.json");
    }

    @Test
    void exportsAModelAndRefusesAnUnknownType() throws IOException {
        Path gguf = GgufImporterTest.tiny("llama", "smollm").writer().write(dir.resolve("tiny.gguf"));
        assertThat(cli("import-gguf", gguf.toString(), "--out", dir.resolve("model").toString()).code()).isZero();
        Outcome o = cli("export-gguf", "--model", dir.resolve("model").toString(), "--out", dir.resolve("back.gguf").toString());
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("back.gguf: llama model, 11 tensors {F16=8, F32=3}");
        try (GgufFile back = GgufFile.open(dir.resolve("back.gguf"))) {
            assertThat(back.tensors()).containsKey("blk.0.attn_q.weight");
        }
        Outcome bad = cli("export-gguf", "--model", dir.resolve("model").toString(), "--out", dir.resolve("x.gguf").toString(),
                "--type", "q4_0");
        assertThat(bad.code()).isEqualTo(64);
        assertThat(bad.err()).contains("--type q4_0: use f16, q8_0 or f32");
    }

    @Test
    void aTruncatedFileIsABadModelNamingTheTensor() throws IOException {
        byte[] whole = GgufImporterTest.tiny("llama", "smollm").writer().bytes();
        Path cut = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(whole, whole.length - 100));
        Outcome o = cli("import-gguf", cut.toString(), "--out", dir.resolve("m").toString());
        assertThat(o.code()).isEqualTo(FailureReason.BAD_MODEL.exitCode());
        assertThat(o.err()).contains("cut.gguf: tensor blk.0.ffn_down.weight").contains("the file is truncated");
        assertThat(dir.resolve("m").resolve("model.safetensors")).doesNotExist();
    }

    @Test
    void refusesABadDtypeAndANonEmptyOutput() throws IOException {
        Path gguf = GgufImporterTest.tiny("llama", "smollm").writer().write(dir.resolve("tiny.gguf"));
        Outcome dtype = cli("import-gguf", gguf.toString(), "--out", dir.resolve("m").toString(), "--dtype", "int4");
        assertThat(dtype.code()).isEqualTo(64);
        assertThat(dtype.err()).contains("--dtype dtype \"int4\": use bf16 or fp32");
        Files.writeString(Files.createDirectories(dir.resolve("full")).resolve("x"), "x");
        Outcome full = cli("import-gguf", gguf.toString(), "--out", dir.resolve("full").toString());
        assertThat(full.code()).isEqualTo(64);
        assertThat(full.err()).contains("--out " + dir.resolve("full") + " is not empty");
    }
}
