package dev.finetune.trainer.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.trainer.gguf.GgufTestWriter.Array;
import dev.finetune.trainer.gguf.GgufTestWriter.Typed;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    @TempDir
    Path dir;

    static GgufTestWriter everyMetadataType() {
        return new GgufTestWriter()
                .put("u8", new Typed(GgufValueType.UINT8, 250))
                .put("i8", new Typed(GgufValueType.INT8, -7))
                .put("u16", new Typed(GgufValueType.UINT16, 65000))
                .put("i16", new Typed(GgufValueType.INT16, -30000))
                .put("u32", new Typed(GgufValueType.UINT32, 4_000_000_000L))
                .put("i32", new Typed(GgufValueType.INT32, -2_000_000_000))
                .put("f32", new Typed(GgufValueType.FLOAT32, 1e-5f))
                .put("bool", true)
                .put("str", "héllo ✓")
                .put("u64", new Typed(GgufValueType.UINT64, 1L << 40))
                .put("i64", new Typed(GgufValueType.INT64, -(1L << 40)))
                .put("f64", 0.1)
                .put("strings", new Array(GgufValueType.STRING, List.of("a", "", "ü")))
                .put("ints", new Array(GgufValueType.INT32, List.of(1, -2, 3)))
                .put("nested", new Array(GgufValueType.ARRAY, List.of(new Array(GgufValueType.UINT8, List.of(1, 2)),
                        new Array(GgufValueType.UINT8, List.of()))))
                .f32("t.weight", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
    }

    @Test
    void readsEveryMetadataTypeAndTheTensorDirectory() throws IOException {
        Path file = everyMetadataType().write(dir.resolve("all.gguf"));
        try (GgufFile g = GgufFile.open(file)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.metadata()).containsEntry("u8", 250L).containsEntry("i8", -7L).containsEntry("u16", 65000L)
                    .containsEntry("i16", -30000L).containsEntry("u32", 4_000_000_000L).containsEntry("i32", -2_000_000_000L)
                    .containsEntry("f32", 1e-5f).containsEntry("bool", true).containsEntry("str", "héllo ✓")
                    .containsEntry("u64", 1L << 40).containsEntry("i64", -(1L << 40)).containsEntry("f64", 0.1)
                    .containsEntry("strings", List.of("a", "", "ü")).containsEntry("ints", List.of(1L, -2L, 3L))
                    .containsEntry("nested", List.of(List.of(1L, 2L), List.of()));
            assertThat(g.optionalNumber("f32")).isEqualTo(1e-5);
            assertThat(g.metadata().keySet()).startsWith("u8", "i8", "u16");
            GgufTensor t = g.tensors().get("t.weight");
            assertThat(t.shape()).containsExactly(2, 3);
            assertThat(t.type()).isEqualTo(GgmlType.F32);
            assertThat(t.offset() % 32).isZero();
            assertThat(t.offset()).isEqualTo(g.dataStart());
            assertThat(Dequantizer.toFloats(g, t)).containsExactly(1, 2, 3, 4, 5, 6);
        }
    }

    @Test
    void aKeyOfTheWrongTypeIsNamedWithItsOffset() throws IOException {
        Path file = everyMetadataType().write(dir.resolve("all.gguf"));
        try (GgufFile g = GgufFile.open(file)) {
            assertThatThrownBy(() -> g.string("u8")).isInstanceOf(GgufFormatException.class)
                    .hasMessageContaining("all.gguf").hasMessageContaining("metadata key u8 (value at offset 38)")
                    .hasMessageContaining("expected String");
            assertThatThrownBy(() -> g.integer("missing")).hasMessageContaining("metadata key missing is missing");
        }
    }

    @Test
    void refusesOtherMagicAndVersions() throws IOException {
        Path notGguf = Files.write(dir.resolve("x.gguf"), "{\"json\": true}".getBytes());
        assertThatThrownBy(() -> GgufFile.open(notGguf)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("x.gguf: not a GGUF file");
        GgufTestWriter v1 = everyMetadataType();
        v1.version = 1;
        Path old = v1.write(dir.resolve("v1.gguf"));
        assertThatThrownBy(() -> GgufFile.open(old)).hasMessageContaining("GGUF version 1 at offset 4 is not supported");
    }

    @Test
    void anUnknownTensorTypeNamesTheTensorAndItsType() throws IOException {
        Path file = new GgufTestWriter().put("general.architecture", "llama")
                .tensor("blk.0.attn_q.weight", new long[] {2, 256}, 10, new byte[2 * 84]) // Q2_K
                .write(dir.resolve("q2k.gguf"));
        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("q2k.gguf: tensor blk.0.attn_q.weight (entry at offset")
                .hasMessageContaining("has type Q2_K, which this importer cannot dequantise");
    }

    @Test
    void aTensorPastTheEndOfTheFileIsReportedAsTruncation() throws IOException {
        byte[] whole = everyMetadataType().bytes();
        Path file = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(whole, whole.length - 32 + 8));
        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("cut.gguf: tensor t.weight (F32, shape [2, 3]) needs bytes")
                .hasMessageContaining("the file is truncated");
    }

    /** Every prefix of a valid file: a located GgufFormatException naming the file, never another exception. */
    @Test
    void everyTruncationIsALocatedError() throws IOException {
        byte[] whole = everyMetadataType().bytes();
        int dataBytes = 32; // the one 24-byte tensor padded to 32
        for (int cut = 0; cut < whole.length - dataBytes + 24; cut++) {
            Path file = Files.write(dir.resolve("prefix.gguf"), Arrays.copyOf(whole, cut));
            int at = cut;
            assertThatThrownBy(() -> GgufFile.open(file).close()).as("cut at %d", at)
                    .isInstanceOf(GgufFormatException.class).hasMessageContaining("prefix.gguf")
                    .satisfies(e -> assertThat(e.getMessage()).containsAnyOf("truncated", "not a GGUF file"));
        }
        try (GgufFile g = GgufFile.open(Files.write(dir.resolve("prefix.gguf"), Arrays.copyOf(whole, whole.length - 8)))) {
            assertThat(g.tensors()).hasSize(1); // the padding after the last tensor is optional
        }
    }

    /** Corrupt lengths and type codes anywhere in the header: a GgufFormatException, never a crash or a huge allocation. */
    @Test
    void corruptHeaderBytesAreLocatedErrors() throws IOException {
        byte[] whole = everyMetadataType().bytes();
        java.util.Random random = new java.util.Random(15);
        int headerEnd = whole.length - 32;
        for (int trial = 0; trial < 400; trial++) {
            byte[] bytes = whole.clone();
            int at = 4 + random.nextInt(headerEnd - 4);
            bytes[at] = (byte) random.nextInt(256);
            if (trial % 2 == 0) {
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).put(at, (byte) 0xFF);
            }
            Path file = Files.write(dir.resolve("corrupt.gguf"), bytes);
            try (GgufFile g = GgufFile.open(file)) {
                assertThat(g.metadata()).isNotNull();
            } catch (GgufFormatException e) {
                assertThat(e.getMessage()).as("byte %d", at).contains("corrupt.gguf");
            }
        }
    }
}
