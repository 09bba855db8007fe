package dev.finetune.trainer.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face fast-tokenizer files ({@code tokenizer.json}, {@code tokenizer_config.json}) for a GGUF
 * file's {@code tokenizer.ggml.*} keys. Only byte-level BPE ({@code tokenizer.ggml.model = gpt2}) is read;
 * the pre-tokenizer is the one llama.cpp runs for the {@code tokenizer.ggml.pre} name:
 *
 * <ul>
 *   <li>{@code gpt2}: GPT-2's regex, byte-level.
 *   <li>{@code smollm}: every digit on its own, then GPT-2's regex (SmolLM / SmolLM2, as their own
 *       tokenizer.json has it: Digits(individual) + ByteLevel).
 *   <li>{@code llama-bpe}, {@code llama3}: Llama 3's regex (digits in groups of up to three).
 *   <li>{@code qwen2}: Qwen2's regex (single digits), NFC-normalised.
 * </ul>
 *
 * Token types follow llama.cpp: 3 (control) tokens are special added tokens, 4 (user-defined) are
 * non-special added tokens.
 */
public final class GgufTokenizer {

    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    private static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** The {@code tokenizer.ggml.pre} names this importer reproduces. */
    public static final List<String> PRE_TOKENIZERS = List.of("gpt2", "smollm", "llama-bpe", "llama3", "qwen2");

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final GgufFile gguf;
    private final List<String> tokens;
    private final List<Long> types;
    private final String pre;

    private GgufTokenizer(GgufFile gguf, List<String> tokens, List<Long> types, String pre) {
        this.gguf = gguf;
        this.tokens = tokens;
        this.types = types;
        this.pre = pre;
    }

    public static GgufTokenizer of(GgufFile gguf) {
        String model = gguf.string("tokenizer.ggml.model");
        if (!model.equals("gpt2")) {
            throw new GgufFormatException(gguf.locate("tokenizer.ggml.model") + " is \"" + model
                    + "\"; only byte-level BPE (\"gpt2\") tokenizers are imported");
        }
        String pre = gguf.metadata().containsKey("tokenizer.ggml.pre") ? gguf.string("tokenizer.ggml.pre") : "gpt2";
        if (!PRE_TOKENIZERS.contains(pre)) {
            throw new GgufFormatException(gguf.locate("tokenizer.ggml.pre") + " is \"" + pre
                    + "\", a pre-tokenizer this importer does not reproduce; supported: " + String.join(", ", PRE_TOKENIZERS));
        }
        List<String> tokens = gguf.array("tokenizer.ggml.tokens", String.class);
        List<Long> types = gguf.metadata().containsKey("tokenizer.ggml.token_type")
                ? gguf.array("tokenizer.ggml.token_type", Long.class) : null;
        if (types != null && types.size() != tokens.size()) {
            throw new GgufFormatException(gguf.locate("tokenizer.ggml.token_type") + " has " + types.size()
                    + " entries but tokenizer.ggml.tokens has " + tokens.size());
        }
        return new GgufTokenizer(gguf, tokens, types, pre);
    }

    public int vocabSize() {
        return tokens.size();
    }

    /** tokenizer.json. */
    public ObjectNode tokenizerJson() {
        ObjectNode t = F.objectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        for (int id = 0; id < tokens.size(); id++) {
            long type = types == null ? 1 : types.get(id);
            if (type == CONTROL || type == USER_DEFINED) {
                ObjectNode a = added.addObject();
                a.put("id", id);
                a.put("content", tokens.get(id));
                a.put("single_word", false);
                a.put("lstrip", false);
                a.put("rstrip", false);
                a.put("normalized", type != CONTROL);
                a.put("special", type == CONTROL);
            }
        }
        if (pre.equals("qwen2")) {
            t.putObject("normalizer").put("type", "NFC");
        } else {
            t.putNull("normalizer");
        }
        t.set("pre_tokenizer", preTokenizer());
        t.set("post_processor", byteLevel(true, false, false));
        t.set("decoder", byteLevel(true, true, true));
        ObjectNode m = t.putObject("model");
        m.put("type", "BPE");
        m.putNull("dropout");
        m.putNull("unk_token");
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        m.put("ignore_merges", pre.startsWith("llama"));
        ObjectNode vocab = m.putObject("vocab");
        for (int id = 0; id < tokens.size(); id++) {
            if (vocab.has(tokens.get(id))) {
                throw new GgufFormatException(gguf.locate("tokenizer.ggml.tokens") + ": token " + id + " \""
                        + tokens.get(id) + "\" repeats token " + vocab.get(tokens.get(id)).asInt());
            }
            vocab.put(tokens.get(id), id);
        }
        ArrayNode merges = m.putArray("merges");
        if (gguf.metadata().containsKey("tokenizer.ggml.merges")) {
            List<String> list = gguf.array("tokenizer.ggml.merges", String.class);
            for (int i = 0; i < list.size(); i++) {
                String[] pair = list.get(i).split(" ", -1);
                if (pair.length != 2) {
                    throw new GgufFormatException(gguf.locate("tokenizer.ggml.merges") + ": merge " + i + " \""
                            + list.get(i) + "\" is not two tokens separated by one space");
                }
                merges.addArray().add(pair[0]).add(pair[1]);
            }
        }
        return t;
    }

    private JsonNode preTokenizer() {
        return switch (pre) {
            case "gpt2" -> byteLevel(false, true, true);
            case "smollm" -> sequence(F.objectNode().put("type", "Digits").put("individual_digits", true),
                    byteLevel(false, true, true));
            case "llama-bpe", "llama3" -> sequence(split(LLAMA3_REGEX), byteLevel(false, true, false));
            case "qwen2" -> sequence(split(QWEN2_REGEX), byteLevel(false, false, false));
            default -> throw new IllegalStateException(pre);
        };
    }

    private static ObjectNode sequence(JsonNode... parts) {
        ObjectNode s = F.objectNode().put("type", "Sequence");
        ArrayNode list = s.putArray("pretokenizers");
        for (JsonNode p : parts) {
            list.add(p);
        }
        return s;
    }

    private static ObjectNode split(String regex) {
        ObjectNode s = F.objectNode().put("type", "Split");
        s.putObject("pattern").put("Regex", regex);
        s.put("behavior", "Isolated");
        s.put("invert", false);
        return s;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        return F.objectNode().put("type", "ByteLevel").put("add_prefix_space", addPrefixSpace)
                .put("trim_offsets", trimOffsets).put("use_regex", useRegex);
    }

    /** tokenizer_config.json: special tokens by text, BOS/EOS insertion flags, the chat template. */
    public ObjectNode tokenizerConfig(int contextLength) {
        ObjectNode c = F.objectNode();
        Map<String, Object> meta = gguf.metadata();
        c.put("add_bos_token", Boolean.TRUE.equals(meta.get("tokenizer.ggml.add_bos_token")));
        c.put("add_eos_token", Boolean.TRUE.equals(meta.get("tokenizer.ggml.add_eos_token")));
        for (String[] special : new String[][] {{"bos_token", "bos_token_id"}, {"eos_token", "eos_token_id"},
                {"unk_token", "unknown_token_id"}, {"pad_token", "padding_token_id"}}) {
            String key = "tokenizer.ggml." + special[1];
            Long id = gguf.optionalInteger(key);
            if (id == null) {
                continue;
            }
            if (id < 0 || id >= tokens.size()) {
                throw new GgufFormatException(gguf.locate(key) + " is " + id + ", outside the vocabulary of " + tokens.size());
            }
            c.put(special[0], tokens.get(id.intValue()));
        }
        if (meta.containsKey("tokenizer.chat_template")) {
            c.put("chat_template", gguf.string("tokenizer.chat_template"));
        }
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", contextLength);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }
}
