package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The e2e adapter check itself, on hand-made safetensors files: it passes a good adapter and names what is wrong. */
class AdapterTest {

    // 1 layer, hidden 4, intermediate 6, 2 heads of 2, 1 KV head; LoRA r 2 on q_proj and down_proj
    private static final JsonNode MODEL = Serialization.unmarshal("""
            {"hidden_size": 4, "intermediate_size": 6, "num_attention_heads": 2, "num_key_value_heads": 1,
             "num_hidden_layers": 1}""", JsonNode.class);
    private static final JsonNode CONFIG = Serialization.unmarshal("""
            {"peft_type": "LORA", "r": 2, "target_modules": ["q_proj", "down_proj"]}""", JsonNode.class);
    private static final String PREFIX = "base_model.model.model.layers.0.";

    /** A safetensors file of F32 tensors with the given shapes, every value 0 or 0.5. */
    private static byte[] safetensors(Map<String, List<Integer>> shapes, boolean zeroLoraB) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (var tensor : shapes.entrySet()) {
            int count = tensor.getValue().stream().reduce(1, (a, b) -> a * b);
            ByteBuffer values = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
            float value = zeroLoraB && tensor.getKey().endsWith("lora_B.weight") ? 0f : 0.5f;
            for (int i = 0; i < count; i++) {
                values.putFloat(value);
            }
            header.put(tensor.getKey(), Map.of("dtype", "F32", "shape", tensor.getValue(),
                    "data_offsets", List.of(data.size(), data.size() + 4 * count)));
            data.writeBytes(values.array());
        }
        byte[] json = Serialization.asJson(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json).put(data.toByteArray());
        return file.array();
    }

    private static Map<String, List<Integer>> goodShapes() {
        Map<String, List<Integer>> shapes = new LinkedHashMap<>();
        shapes.put(PREFIX + "self_attn.q_proj.lora_A.weight", List.of(2, 4));
        shapes.put(PREFIX + "self_attn.q_proj.lora_B.weight", List.of(4, 2));
        shapes.put(PREFIX + "mlp.down_proj.lora_A.weight", List.of(2, 6));
        shapes.put(PREFIX + "mlp.down_proj.lora_B.weight", List.of(4, 2));
        return shapes;
    }

    @Test
    void aTrainedAdapterWithTheModelsShapesPasses() {
        assertThatCode(() -> Adapter.assertLoraShapes(CONFIG, MODEL, safetensors(goodShapes(), false)))
                .doesNotThrowAnyException();
    }

    @Test
    void anUntrainedLoraBIsNamed() {
        assertThatThrownBy(() -> Adapter.assertLoraShapes(CONFIG, MODEL, safetensors(goodShapes(), true)))
                .hasMessageContaining("lora_B.weight is not all zeros");
    }

    @Test
    void aWrongShapeIsNamed() {
        Map<String, List<Integer>> shapes = goodShapes();
        shapes.put(PREFIX + "mlp.down_proj.lora_A.weight", List.of(2, 4));
        assertThatThrownBy(() -> Adapter.assertLoraShapes(CONFIG, MODEL, safetensors(shapes, false)))
                .hasMessageContaining("mlp.down_proj.lora_A.weight shape");
    }

    @Test
    void aMissingTensorIsNamed() {
        Map<String, List<Integer>> shapes = goodShapes();
        shapes.remove(PREFIX + "mlp.down_proj.lora_B.weight");
        assertThatThrownBy(() -> Adapter.assertLoraShapes(CONFIG, MODEL, safetensors(shapes, false)))
                .hasMessageContaining("adapter tensors").hasMessageContaining("down_proj.lora_B.weight");
    }
}
