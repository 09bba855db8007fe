package dev.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The architecture hyperparameters read from a Hugging Face {@code config.json}, for the decoder
 * families we run: llama, qwen2, qwen3, mistral. Fields keep HF's meaning exactly.
 *
 * @param modelType HF {@code model_type}
 * @param headDim per-head width ({@code head_dim}, else hidden / heads)
 * @param attentionBias q/k/v projections carry biases (qwen2 always; llama if {@code attention_bias})
 * @param outputProjectionBias o_proj carries a bias (llama {@code attention_bias}; never qwen2)
 * @param qkNorm per-head RMSNorm on q and k before rotary (qwen3)
 * @param ropeScaling null for plain rotary
 */
public record ModelConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean outputProjectionBias,
        boolean mlpBias,
        boolean qkNorm,
        String torchDtype,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        JsonNode raw) {

    public static final Set<String> SUPPORTED = Set.of("llama", "qwen2", "qwen3", "mistral");

    /** HF rope_scaling: {@code rope_type} default / linear / dynamic / llama3 / yarn ... */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositionEmbeddings) {}

    public static ModelConfig read(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("model directory " + modelDir + " has no config.json; "
                    + "point model.pvc.path at a Hugging Face model directory (config.json, *.safetensors, tokenizer.json)");
        }
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file + " is not valid JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
        return parse(json, file.toString());
    }

    public static ModelConfig parse(JsonNode c, String source) {
        if (c == null || !c.isObject()) {
            throw new ModelFormatException(source + ": " + (c == null || c.isMissingNode() ? "the file is empty"
                    : "is a JSON " + c.getNodeType().name().toLowerCase(java.util.Locale.ROOT)) + ", expected the model's "
                    + "config object ({\"model_type\": ..., \"hidden_size\": ...})");
        }
        String type = text(c, "model_type", source);
        if (!SUPPORTED.contains(type)) {
            throw new ModelFormatException(source + ": model_type \"" + type + "\" is not supported; supported: "
                    + String.join(", ", SUPPORTED.stream().sorted().toList()));
        }
        int hidden = integer(c, "hidden_size", source);
        int heads = integer(c, "num_attention_heads", source);
        int kvHeads = c.hasNonNull("num_key_value_heads") ? integer(c, "num_key_value_heads", source) : heads;
        int headDim = c.hasNonNull("head_dim") ? integer(c, "head_dim", source) : hidden / heads;
        if (!c.hasNonNull("head_dim") && hidden % heads != 0) {
            throw new ModelFormatException(source + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(source + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException(source + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        boolean attentionBiasFlag = c.path("attention_bias").asBoolean(false);
        boolean qkvBias = type.equals("qwen2") || attentionBiasFlag;
        boolean oBias = !type.equals("qwen2") && attentionBiasFlag;
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = c.get("eos_token_id");
        if (eosNode != null && eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else if (eosNode != null && eosNode.isNumber()) {
            eos.add(eosNode.asInt());
        }
        Integer bos = c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : null;
        return new ModelConfig(type,
                integer(c, "vocab_size", source),
                hidden,
                integer(c, "intermediate_size", source),
                integer(c, "num_hidden_layers", source),
                heads,
                kvHeads,
                headDim,
                positiveNumber(c, "rms_norm_eps", 1e-6, source),
                positiveNumber(c, "rope_theta", 10000.0, source),
                ropeScaling(c.get("rope_scaling"), source),
                c.hasNonNull("max_position_embeddings") ? integer(c, "max_position_embeddings", source) : 2048,
                c.path("tie_word_embeddings").asBoolean(false),
                qkvBias,
                oBias,
                c.path("mlp_bias").asBoolean(false),
                type.equals("qwen3"),
                c.path("torch_dtype").asText(c.path("dtype").asText("float32")),
                bos,
                List.copyOf(eos),
                c);
    }

    private static RopeScaling ropeScaling(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("rope_type").asText(node.path("type").asText("default"));
        if (type.equals("default")) {
            return null;
        }
        if (!Set.of("linear", "llama3").contains(type)) {
            throw new ModelFormatException(source + ": rope_scaling type \"" + type
                    + "\" is not supported (supported: default, linear, llama3)");
        }
        return new RopeScaling(type, node.path("factor").asDouble(1.0), node.path("low_freq_factor").asDouble(1.0),
                node.path("high_freq_factor").asDouble(4.0), node.path("original_max_position_embeddings").asInt(8192));
    }

    private static String text(JsonNode c, String key, String source) {
        JsonNode n = c.get(key);
        if (n == null || !n.isTextual()) {
            throw new ModelFormatException(source + ": missing string field \"" + key + "\"");
        }
        return n.asText();
    }

    /**
     * A positive whole number. A value of another type, a fraction or one past int's range is named as it is: read
     * leniently, "64" would pass for 64, and 2.5 layers would quietly become 2.
     */
    private static int integer(JsonNode c, String key, String source) {
        JsonNode n = c.get(key);
        if (n != null && !n.isNull() && !(n.isNumber() && n.canConvertToExactIntegral() && n.canConvertToInt())) {
            throw new ModelFormatException(source + ": \"" + key + "\" is " + n + ", expected a positive whole number"
                    + (n.isTextual() ? " (a JSON number, without quotes)" : ""));
        }
        if (n == null || n.isNull() || n.asInt() <= 0) {
            throw new ModelFormatException(source + ": missing or non-positive integer field \"" + key + "\"");
        }
        return n.asInt();
    }

    /** An optional positive number ({@code fallback} when absent or null); any other value is refused, not defaulted. */
    private static double positiveNumber(JsonNode c, String key, double fallback, String source) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble())) {
            throw new ModelFormatException(source + ": \"" + key + "\" is " + n + ", expected a positive number"
                    + (n.isTextual() ? " (a JSON number, without quotes)" : ""));
        }
        return n.asDouble();
    }

    /**
     * Sliding-window attention span, or null: Mistral's {@code sliding_window}; Qwen2/Qwen3 only with
     * {@code use_sliding_window} (or {@code layer_types}). A token attends to the last {@code window}
     * positions including itself, as HF's sliding-window causal mask.
     */
    public Integer slidingWindow() {
        JsonNode w = raw.get("sliding_window");
        if (w == null || w.isNull() || !w.canConvertToInt() || w.asInt() <= 0) {
            return null;
        }
        if (modelType.equals("mistral")) {
            return w.asInt();
        }
        if ((modelType.equals("qwen2") || modelType.equals("qwen3"))
                && (raw.path("use_sliding_window").asBoolean(false) || raw.has("layer_types"))) {
            return w.asInt();
        }
        return null;
    }

    /** Whether layer {@code layer} uses the sliding window (HF {@code layer_types}, else Qwen's max_window_layers rule). */
    public boolean slidingLayer(int layer) {
        if (slidingWindow() == null) {
            return false;
        }
        JsonNode types = raw.get("layer_types");
        if (types != null && types.isArray() && layer < types.size()) {
            return "sliding_attention".equals(types.get(layer).asText());
        }
        if (modelType.equals("mistral")) {
            return true;
        }
        return layer >= raw.path("max_window_layers").asInt(numLayers);
    }

    public int queryWidth() {
        return numHeads * headDim;
    }

    public int kvWidth() {
        return numKvHeads * headDim;
    }
}
