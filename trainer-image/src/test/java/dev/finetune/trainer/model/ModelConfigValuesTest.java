package dev.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A config.json value of the wrong kind is a BAD_MODEL naming the key and the value, never read leniently: 2.5 layers
 * used to become 2, a rope_theta of "abc" the default 10000, and "64" was called missing.
 */
class ModelConfigValuesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LLAMA = "{\"model_type\": \"llama\", \"vocab_size\": 80, \"hidden_size\": 64,"
            + " \"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
            + " \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"max_position_embeddings\": 512}";

    static ObjectNode llama(Consumer<ObjectNode> change) {
        try {
            ObjectNode c = (ObjectNode) JSON.readTree(LLAMA);
            change.accept(c);
            return c;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void refused(JsonNode config, String message) {
        assertThatThrownBy(() -> ModelConfig.parse(config, "m/config.json")).isInstanceOf(ModelFormatException.class)
                .hasMessage("m/config.json: " + message);
    }

    @Test
    void wrongKindsOfValueAreNamedWithTheValue() {
        refused(llama(c -> c.put("num_hidden_layers", 2.5)), "\"num_hidden_layers\" is 2.5, expected a positive whole number");
        refused(llama(c -> c.put("hidden_size", "64")),
                "\"hidden_size\" is \"64\", expected a positive whole number (a JSON number, without quotes)");
        refused(llama(c -> c.put("num_hidden_layers", 1_000_000_000_000L)),
                "\"num_hidden_layers\" is 1000000000000, expected a positive whole number");
        refused(llama(c -> c.put("rope_theta", "abc")),
                "\"rope_theta\" is \"abc\", expected a positive number (a JSON number, without quotes)");
        refused(llama(c -> c.put("rms_norm_eps", -1e-5)), "\"rms_norm_eps\" is -1.0E-5, expected a positive number");
        refused(llama(c -> c.put("max_position_embeddings", "4k")),
                "\"max_position_embeddings\" is \"4k\", expected a positive whole number (a JSON number, without quotes)");
        refused(llama(c -> c.put("num_key_value_heads", 0)), "missing or non-positive integer field \"num_key_value_heads\"");
    }

    @Test
    void anEmptyFileOrAnotherJsonValueIsNamedAsSuch() throws Exception {
        refused(JSON.readTree(""), "the file is empty, expected the model's config object ({\"model_type\": ..., \"hidden_size\": ...})");
        refused(JSON.readTree("[]"), "is a JSON array, expected the model's config object ({\"model_type\": ..., \"hidden_size\": ...})");
    }

    @Test
    void absentOrNullOptionalValuesTakeHuggingFacesDefaultsAndWholeFloatsAreWholeNumbers() {
        ModelConfig c = ModelConfig.parse(llama(n -> {
            n.remove("rope_theta");
            n.putNull("rms_norm_eps");
            n.remove("max_position_embeddings");
            n.put("num_hidden_layers", 2.0);
        }), "m/config.json");
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(c.numLayers()).isEqualTo(2);
    }
}
