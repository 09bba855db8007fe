package dev.finetune.trainer.fuzz;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.format.Formats;
import dev.finetune.trainer.data.format.RawRecord;
import dev.finetune.trainer.model.ModelConfig;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each crash the fuzz suite found, shrunk to its smallest input, as a located error for good. */
class FuzzRegressionTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** DatasetFuzzTest: DELETE of "messages" from a messages record read with format: messages (a NullPointerException). */
    @Test
    void messagesRecordWithoutMessagesIsADatasetError() throws IOException {
        RawRecord r = new RawRecord(JSON.readTree("{\"system\": \"s\"}"), new SourceLocation("d.jsonl", 1, 0, 0));
        for (DatasetFormat f : new DatasetFormat[] {DatasetFormat.MESSAGES, DatasetFormat.SHAREGPT, DatasetFormat.CONVERSATION}) {
            assertThatThrownBy(() -> new Formats(null, null).convert(f, r)).isInstanceOf(DatasetException.class)
                    .hasMessageStartingWith("d.jsonl:1 (record 0): field '");
        }
    }

    /** ModelFilesFuzzTest: ADD_FIELD head_dim = [] (parsed as 0, then divided by). */
    @Test
    void headDimThatIsNotAPositiveIntegerIsAModelError() throws IOException {
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(ModelFilesFuzzTest.CONFIGS.get(1));
        config.set("head_dim", JSON.createArrayNode());
        assertThatThrownBy(() -> ModelConfig.parse(config, "m/config.json")).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("m/config.json: ").hasMessageContaining("\"head_dim\"");
    }

    /** ModelFilesFuzzTest: num_key_value_heads = 0 (an ArithmeticException: / by zero). */
    @Test
    void zeroKeyValueHeadsIsAModelError() throws IOException {
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(ModelFilesFuzzTest.CONFIGS.get(0));
        config.put("num_key_value_heads", 0);
        assertThatThrownBy(() -> ModelConfig.parse(config, "m/config.json")).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("\"num_key_value_heads\"");
    }

    /** SafetensorsFuzzTest: data_offsets replaced by a two-field object (a NullPointerException). */
    @Test
    void dataOffsetsThatAreNotAListAreASafetensorsError() throws IOException {
        Path file = header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": {\"a\": 0, \"b\": 4}}}", 4);
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(file + ": tensor \"w\" lacks shape or data_offsets");
    }

    /** SafetensorsFuzzTest: a negative dimension and an overflowing shape. */
    @Test
    void negativeOrHugeShapesAreASafetensorsError() throws IOException {
        Path negative = header("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1, -4], \"data_offsets\": [0, 16]}}", 16);
        assertThatThrownBy(() -> SafetensorsFile.open(negative)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("shape entry -1, expected an integer >= 0");
        Path huge = header("{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 4]}}", 4);
        assertThatThrownBy(() -> SafetensorsFile.open(huge)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("too large to address");
    }

    private Path header(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = Files.createTempFile(dir, "t-", ".safetensors");
        Files.write(file, b.array());
        return file;
    }
}
