package dev.finetune.trainer.gguf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one table between llama.cpp's tensor names ({@code blk.N.attn_q.weight}) and Hugging Face's
 * ({@code model.layers.N.self_attn.q_proj.weight}) for llama-family decoders, read both ways.
 */
final class GgufTensorNames {

    private static final Map<String, String> GGUF_TO_HF = Map.ofEntries(
            Map.entry("token_embd.weight", "model.embed_tokens.weight"),
            Map.entry("output_norm.weight", "model.norm.weight"),
            Map.entry("output.weight", "lm_head.weight"));
    private static final Map<String, String> LAYER_GGUF_TO_HF = Map.ofEntries(
            Map.entry("attn_norm", "input_layernorm"),
            Map.entry("attn_q", "self_attn.q_proj"),
            Map.entry("attn_k", "self_attn.k_proj"),
            Map.entry("attn_v", "self_attn.v_proj"),
            Map.entry("attn_output", "self_attn.o_proj"),
            Map.entry("attn_q_norm", "self_attn.q_norm"),
            Map.entry("attn_k_norm", "self_attn.k_norm"),
            Map.entry("ffn_norm", "post_attention_layernorm"),
            Map.entry("ffn_gate", "mlp.gate_proj"),
            Map.entry("ffn_up", "mlp.up_proj"),
            Map.entry("ffn_down", "mlp.down_proj"));
    private static final Map<String, String> HF_TO_GGUF = inverse(GGUF_TO_HF);
    private static final Map<String, String> LAYER_HF_TO_GGUF = inverse(LAYER_GGUF_TO_HF);

    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");

    private GgufTensorNames() {
    }

    /** The Hugging Face name of a llama.cpp tensor of a model with {@code layers} layers, or null if it has none. */
    static String toHf(String gguf, int layers) {
        if (GGUF_TO_HF.containsKey(gguf)) {
            return GGUF_TO_HF.get(gguf);
        }
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches() && LAYER_GGUF_TO_HF.containsKey(m.group(2)) && Integer.parseInt(m.group(1)) < layers) {
            return "model.layers." + m.group(1) + "." + LAYER_GGUF_TO_HF.get(m.group(2)) + "." + m.group(3);
        }
        return null;
    }

    /** The llama.cpp name of a Hugging Face tensor, or null if it has none. */
    static String toGguf(String hf) {
        if (HF_TO_GGUF.containsKey(hf)) {
            return HF_TO_GGUF.get(hf);
        }
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches() && LAYER_HF_TO_GGUF.containsKey(m.group(2))) {
            return "blk." + m.group(1) + "." + LAYER_HF_TO_GGUF.get(m.group(2)) + "." + m.group(3);
        }
        return null;
    }

    private static Map<String, String> inverse(Map<String, String> map) {
        return map.entrySet().stream().collect(Collectors.toUnmodifiableMap(Map.Entry::getValue, Map.Entry::getKey));
    }
}
