package dev.finetune.trainer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A valid safetensors file (F32, BF16 and I64 tensors, metadata) with its JSON header mutated, or its bytes
 * (the 8-byte header length included) mutated: opening it and reading every tensor either works or fails with
 * a {@link SafetensorsException} naming the file. Never another exception.
 */
class SafetensorsFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void writeValidFile() throws IOException {
        dir = Files.createTempDirectory("safetensors-fuzz");
        Path file = dir.resolve("valid.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.embed_tokens.weight", DType.F32, new long[] {4, 3}, new float[12])
                .addFloats("model.norm.weight", DType.BF16, new long[] {3}, new float[] {1, 2, 3})
                .add("step", DType.I64, new long[] {1}, new byte[] {7, 0, 0, 0, 0, 0, 0, 0})
                .write(file);
        valid = Files.readAllBytes(file);
    }

    @AfterContainer
    static void deleteDir() throws IOException {
        ScratchDirs.delete(dir);
    }

    @Property(tries = 1000)
    void mutatedHeadersOpenOrFailNamingTheFile(@ForAll(supplier = Mutation.Edits.class) List<Mutation> mutations) throws IOException {
        long headerLength = ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = JSON.readTree(new String(valid, 8, (int) headerLength, StandardCharsets.UTF_8));
        byte[] mutated = JSON.writeValueAsBytes(Mutation.applyAll(header, mutations));
        byte[] data = Arrays.copyOfRange(valid, 8 + (int) headerLength, valid.length);
        ByteBuffer file = ByteBuffer.allocate(8 + mutated.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(mutated.length).put(mutated).put(data);
        check(file.array());
    }

    @Property(tries = 600)
    void mutatedBytesOpenOrFailNamingTheFile(@ForAll(supplier = TextMutation.Edits.class) List<TextMutation> mutations) throws IOException {
        check(TextMutation.applyAll(valid, mutations));
    }

    private static void check(byte[] bytes) throws IOException {
        Path file = Files.createTempFile(dir, "model-", ".safetensors");
        Files.write(file, bytes);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (SafetensorsFile.Entry e : f.entries().values()) {
                if (!e.dtype().equals(DType.I64)) {
                    assertThat(f.readFloats(e.name())).hasSize((int) e.elements());
                }
            }
        } catch (SafetensorsException e) {
            assertThat(e.getMessage()).startsWith(file.toString());
        } finally {
            Files.delete(file);
        }
    }
}
