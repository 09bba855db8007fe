package dev.finetune.trainer.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a GGUF file's {@code general.architecture} means in Hugging Face terms: the {@code config.json} built
 * from the {@code <arch>.*} keys llama.cpp's converter writes, and the HF name of every llama.cpp tensor name.
 *
 * <p>llama.cpp's converter reorders the rows of the llama family's q_proj and k_proj (weights and biases) so
 * that each head's two rotary halves are interleaved ({@code LlamaModel.permute}); {@link #unpermutes} says
 * which tensors need the reverse. qwen2/qwen3 use the NeoX rotary layout and are stored unpermuted.
 */
public final class GgufArchitecture {

    /** The architectures this importer reads, by their GGUF name. */
    public static final List<String> SUPPORTED = List.of("llama", "qwen2", "qwen3");

    private final GgufFile gguf;
    private final String arch;
    private final int layers;
    private final int heads;
    private final int kvHeads;

    private GgufArchitecture(GgufFile gguf, String arch) {
        this.gguf = gguf;
        this.arch = arch;
        this.layers = positive(arch + ".block_count");
        this.heads = positive(arch + ".attention.head_count");
        this.kvHeads = gguf.metadata().containsKey(arch + ".attention.head_count_kv")
                ? positive(arch + ".attention.head_count_kv") : heads;
    }

    public static GgufArchitecture of(GgufFile gguf) {
        String arch = gguf.string("general.architecture");
        if (!SUPPORTED.contains(arch)) {
            throw new GgufFormatException(gguf.locate("general.architecture") + " is \"" + arch
                    + "\", which this importer does not support; supported: " + String.join(", ", SUPPORTED));
        }
        return new GgufArchitecture(gguf, arch);
    }

    public String name() {
        return arch;
    }

    /** The Hugging Face tensor name for a llama.cpp one, or a located error for a tensor it cannot place. */
    public String hfName(GgufTensor tensor) {
        String n = tensor.name();
        String hf = GgufTensorNames.toHf(n, layers);
        if (hf != null) {
            return hf;
        }
        String why = n.equals("rope_freqs.weight") ? "llama3-style rope frequency factors are not supported yet"
                : "it is not a tensor of a " + arch + " model with " + layers + " layers";
        throw new GgufFormatException(gguf.file() + ": tensor " + n + " (data at offset " + tensor.offset() + "): " + why);
    }

    /**
     * The number of heads whose rotary halves llama.cpp interleaved in this tensor (query heads for q_proj,
     * key/value heads for k_proj), or 0 when it is stored as Hugging Face has it.
     */
    public int unpermutes(String hfName) {
        if (!arch.equals("llama")) {
            return 0;
        }
        if (hfName.contains(".self_attn.q_proj.")) {
            return heads;
        }
        if (hfName.contains(".self_attn.k_proj.")) {
            return kvHeads;
        }
        return 0;
    }

    /** config.json for this model; {@code torchDtype} is "bfloat16" or "float32". */
    public ObjectNode config(int vocabSize, boolean tiedEmbeddings, boolean attentionBias, String torchDtype) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        String hfType = arch;
        String className = switch (arch) {
            case "qwen2" -> "Qwen2ForCausalLM";
            case "qwen3" -> "Qwen3ForCausalLM";
            default -> "LlamaForCausalLM";
        };
        int hidden = positive(arch + ".embedding_length");
        c.putArray("architectures").add(className);
        c.put("model_type", hfType);
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", positive(arch + ".feed_forward_length"));
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        Long keyLength = gguf.optionalInteger(arch + ".attention.key_length");
        c.put("head_dim", keyLength != null ? keyLength.intValue() : hidden / heads);
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", positive(arch + ".context_length"));
        Double eps = gguf.optionalNumber(arch + ".attention.layer_norm_rms_epsilon");
        c.put("rms_norm_eps", eps == null ? 1e-6 : eps);
        Double theta = gguf.optionalNumber(arch + ".rope.freq_base");
        c.put("rope_theta", theta == null ? 10000.0 : theta);
        c.set("rope_scaling", ropeScaling());
        c.put("tie_word_embeddings", tiedEmbeddings);
        if (arch.equals("llama")) {
            c.put("attention_bias", attentionBias);
            c.put("mlp_bias", false);
        } else {
            c.put("use_sliding_window", false);
            c.put("attention_bias", arch.equals("qwen2") || attentionBias);
        }
        c.put("attention_dropout", 0.0);
        c.put("initializer_range", 0.02);
        c.put("use_cache", true);
        Long bos = gguf.optionalInteger("tokenizer.ggml.bos_token_id");
        Long eos = gguf.optionalInteger("tokenizer.ggml.eos_token_id");
        Long pad = gguf.optionalInteger("tokenizer.ggml.padding_token_id");
        if (bos != null) {
            c.put("bos_token_id", bos);
        }
        if (eos != null) {
            c.put("eos_token_id", eos);
        }
        if (pad != null) {
            c.put("pad_token_id", pad);
        }
        c.put("torch_dtype", torchDtype);
        return c;
    }

    private ObjectNode ropeScaling() {
        String key = arch + ".rope.scaling.type";
        if (!gguf.metadata().containsKey(key) || gguf.string(key).equals("none")) {
            return null;
        }
        String type = gguf.string(key);
        if (!type.equals("linear")) {
            throw new GgufFormatException(gguf.locate(key) + " is \"" + type + "\"; only linear rope scaling is supported");
        }
        Double factor = gguf.optionalNumber(arch + ".rope.scaling.factor");
        ObjectNode s = new ObjectMapper().createObjectNode();
        s.put("rope_type", "linear");
        s.put("factor", factor == null ? 1.0 : factor);
        return s;
    }

    private int positive(String key) {
        long v = gguf.integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new GgufFormatException(gguf.locate(key) + " is " + v + ", expected a positive count");
        }
        return (int) v;
    }
}
