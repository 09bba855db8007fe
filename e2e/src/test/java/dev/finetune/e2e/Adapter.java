package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A PEFT LoRA adapter as the trainer writes it: adapter_config.json (peft_type LORA, r, target_modules) and
 * adapter_model.safetensors with lora_A [r, in] and lora_B [out, r] for every target module of every layer of the
 * model's config.json, lora_B trained away from its zero initialisation.
 */
final class Adapter {

    private static final List<String> ATTENTION = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    private Adapter() {
    }

    static void assertLoraShapes(JsonNode adapterConfig, JsonNode model, byte[] safetensors) {
        assertThat(adapterConfig.path("peft_type").asText()).as("adapter_config.json peft_type").isEqualTo("LORA");
        int r = adapterConfig.path("r").asInt();
        List<String> modules = new ArrayList<>();
        adapterConfig.path("target_modules").forEach(m -> modules.add(m.asText()));
        int hidden = model.path("hidden_size").asInt();
        int inter = model.path("intermediate_size").asInt();
        int heads = model.path("num_attention_heads").asInt();
        int kvHeads = model.path("num_key_value_heads").asInt();
        int headDim = model.path("head_dim").asInt(hidden / heads);
        Map<String, int[]> outIn = Map.of(
                "q_proj", new int[] {heads * headDim, hidden}, "k_proj", new int[] {kvHeads * headDim, hidden},
                "v_proj", new int[] {kvHeads * headDim, hidden}, "o_proj", new int[] {hidden, heads * headDim},
                "gate_proj", new int[] {inter, hidden}, "up_proj", new int[] {inter, hidden},
                "down_proj", new int[] {hidden, inter});

        ByteBuffer buffer = ByteBuffer.wrap(safetensors).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(buffer.getLong(0));
        ObjectNode header = (ObjectNode) Serialization.unmarshal(
                new String(safetensors, 8, headerLength, StandardCharsets.UTF_8), JsonNode.class);
        header.remove("__metadata__");
        int dataStart = 8 + headerLength;

        Map<String, List<Integer>> expected = new TreeMap<>();
        for (int layer = 0; layer < model.path("num_hidden_layers").asInt(); layer++) {
            for (String module : modules) {
                assertThat(outIn).as("target module " + module + " is a Llama projection").containsKey(module);
                String block = ATTENTION.contains(module) ? "self_attn" : "mlp";
                String prefix = "base_model.model.model.layers." + layer + "." + block + "." + module;
                expected.put(prefix + ".lora_A.weight", List.of(r, outIn.get(module)[1]));
                expected.put(prefix + ".lora_B.weight", List.of(outIn.get(module)[0], r));
            }
        }
        TreeSet<String> keys = new TreeSet<>();
        header.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).as("adapter tensors").containsExactlyElementsOf(expected.keySet());
        for (var tensor : expected.entrySet()) {
            List<Integer> shape = new ArrayList<>();
            header.path(tensor.getKey()).path("shape").forEach(d -> shape.add(d.asInt()));
            assertThat(shape).as(tensor.getKey() + " shape").isEqualTo(tensor.getValue());
            if (tensor.getKey().endsWith("lora_B.weight")) {
                JsonNode offsets = header.path(tensor.getKey()).path("data_offsets");
                boolean trained = false;
                for (int i = dataStart + offsets.get(0).asInt(); i < dataStart + offsets.get(1).asInt() && !trained; i++) {
                    trained = safetensors[i] != 0;
                }
                assertThat(trained).as(tensor.getKey() + " is not all zeros (the adapter was trained)").isTrue();
            }
        }
    }
}
