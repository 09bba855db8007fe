package dev.finetune.trainer.data.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.model.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The model's own tokenizer ({@code tokenizer.json} through DJL's Hugging Face tokenizers binding) with
 * DJL's defaults switched off: no truncation (DJL cuts at 512 otherwise), no padding, no special tokens
 * added behind our back. BOS/EOS/pad and the chat template come from the model's files.
 *
 * <p>Thread-safe for {@link #encode}; close it to free the native tokenizer.
 */
public final class ModelTokenizer implements AutoCloseable {

    /** End-of-turn tokens of known chat formats: generation stops on them when the model's files say so or not. */
    static final List<String> KNOWN_END_OF_TURN = List.of("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>",
            "<|end|>", "<|endoftext|>", "</s>", "<｜end▁of▁sentence｜>", "<|end_of_text|>");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> addedTokens;
    private final SpecialTokens special;
    private final String chatTemplate;
    private final Path chatTemplateFile;
    private final Path dir;

    private ModelTokenizer(Path dir, HuggingFaceTokenizer tokenizer, Map<String, Integer> addedTokens,
            SpecialTokens special, String chatTemplate) {
        this.dir = dir;
        this.chatTemplateFile = Files.isRegularFile(dir.resolve("chat_template.jinja")) ? dir.resolve("chat_template.jinja")
                : Files.isRegularFile(dir.resolve("chat_template.json")) && !hasKey(dir.resolve("tokenizer_config.json"))
                ? dir.resolve("chat_template.json") : dir.resolve("tokenizer_config.json");
        this.tokenizer = tokenizer;
        this.addedTokens = addedTokens;
        this.special = special;
        this.chatTemplate = chatTemplate;
    }

    /** Loads {@code tokenizer.json}, {@code tokenizer_config.json} and, when present, generation_config.json and config.json. */
    public static ModelTokenizer load(Path modelDir) {
        Path tokenizerJson = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new ModelFormatException("model directory " + modelDir + " has no tokenizer.json; use a Hugging Face "
                    + "model directory with the fast tokenizer file (save it with tokenizer.save_pretrained)");
        }
        JsonNode tokenizerConfig = readJson(modelDir.resolve("tokenizer_config.json"));
        JsonNode generationConfig = readJson(modelDir.resolve("generation_config.json"));
        JsonNode config = readJson(modelDir.resolve("config.json"));
        Map<String, Integer> added = addedTokens(tokenizerJson);
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            // the tokenizers library rejects a file it cannot parse with a RuntimeException naming the problem
            throw new ModelFormatException(tokenizerJson + " cannot be loaded by the tokenizers library: " + e.getMessage()
                    + "; save the tokenizer again with tokenizer.save_pretrained", e);
        }
        ModelTokenizer partial = new ModelTokenizer(modelDir, hf, added, null, null);
        String bos = tokenText(tokenizerConfig.get("bos_token"));
        String eos = tokenText(tokenizerConfig.get("eos_token"));
        String pad = tokenText(tokenizerConfig.get("pad_token"));
        Path configFile = modelDir.resolve("tokenizer_config.json");
        int vocab = config.path("vocab_size").canConvertToInt() ? config.path("vocab_size").asInt() : Integer.MAX_VALUE;
        int bosId = bos == null ? firstId(generationConfig.get("bos_token_id"), config.get("bos_token_id"))
                : partial.specialTokenId(bos, "bos_token", configFile);
        if (bos == null && bosId >= 0 && tokenizerConfig.path("add_bos_token").asBoolean(false)) {
            bos = partial.decode(new int[] {bosId});
        }
        int eosId = eos == null ? -1 : partial.specialTokenId(eos, "eos_token", configFile);
        Set<Integer> stops = new LinkedHashSet<>();
        if (eosId >= 0) {
            stops.add(eosId);
        }
        addIds(stops, generationConfig.get("eos_token_id"));
        addIds(stops, config.get("eos_token_id"));
        for (String t : KNOWN_END_OF_TURN) {
            Integer id = added.get(t);
            if (id != null) {
                stops.add(id);
            }
        }
        if (eosId < 0 && !stops.isEmpty()) {
            eosId = stops.iterator().next();
            eos = partial.decode(new int[] {eosId});
        }
        int padId = pad != null ? partial.specialTokenId(pad, "pad_token", configFile)
                : firstId(generationConfig.get("pad_token_id"), config.get("pad_token_id"));
        for (int id : stops) {
            checkId(id, "eos_token_id", vocab, modelDir);
        }
        checkId(bosId, "bos_token_id", vocab, modelDir);
        checkId(padId, "pad_token_id", vocab, modelDir);
        if (padId < 0) {
            padId = eosId;
        }
        boolean addBos = tokenizerConfig.path("add_bos_token").asBoolean(bos != null);
        SpecialTokens special = new SpecialTokens(bos, bosId, eos, eosId, padId, Set.copyOf(stops), addBos);
        return new ModelTokenizer(modelDir, hf, added, special, chatTemplate(modelDir, tokenizerConfig));
    }

    /** A special token named by tokenizer_config.json: one token of the vocabulary, or the key is named. */
    private int specialTokenId(String text, String key, Path configFile) {
        try {
            return tokenId(text);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(configFile + ": " + key + " \"" + text + "\" is not one token of tokenizer.json; "
                    + "set it to one of the tokenizer's special tokens (added_tokens) or remove it");
        }
    }

    /** A token id from generation_config.json or config.json lies in the vocabulary (-1: not given). */
    private static void checkId(int id, String key, int vocabSize, Path modelDir) {
        if (id < -1 || id >= vocabSize) {
            throw new ModelFormatException(modelDir + ": " + key + " " + id + " (generation_config.json / config.json) is "
                    + "outside the vocabulary of " + vocabSize + " tokens (config.json vocab_size)");
        }
    }

    /** The added_tokens of tokenizer.json, read by streaming past the (large) vocabulary. */
    private static Map<String, Integer> addedTokens(Path tokenizerJson) {
        Map<String, Integer> added = new HashMap<>();
        try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(tokenizerJson.toFile())) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                return added;
            }
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("added_tokens")) {
                    JsonNode tokens = p.readValueAsTree();
                    for (JsonNode t : tokens) {
                        added.put(t.path("content").asText(), t.path("id").asInt());
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(tokenizerJson + (e.getLocation() == null ? "" : ":" + e.getLocation().getLineNr()
                    + ":" + e.getLocation().getColumnNr()) + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(tokenizerJson + " cannot be read: " + e.getMessage(), e);
        }
        return added;
    }

    private static String chatTemplate(Path dir, JsonNode tokenizerConfig) {
        Path jinja = dir.resolve("chat_template.jinja");
        try {
            if (Files.isRegularFile(jinja)) {
                return Files.readString(jinja);
            }
        } catch (IOException e) {
            throw new ModelFormatException(jinja + " cannot be read: " + e.getMessage(), e);
        }
        JsonNode t = tokenizerConfig.get("chat_template");
        if (t == null || t.isNull()) {
            JsonNode separate = readJson(dir.resolve("chat_template.json"));
            t = separate.get("chat_template");
        }
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) { // [{name, template}, ...]: the "default" one
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText();
                }
            }
        }
        return null;
    }

    private static JsonNode readJson(Path p) {
        if (!Files.isRegularFile(p)) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(p.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(p + (e.getLocation() == null ? "" : ":" + e.getLocation().getLineNr() + ":"
                    + e.getLocation().getColumnNr()) + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(p + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isObject() ? n.path("content").asText(null) : n.asText();
    }

    private static int firstId(JsonNode... nodes) {
        for (JsonNode n : nodes) {
            if (n != null && n.isInt()) {
                return n.asInt();
            }
            if (n != null && n.isArray() && !n.isEmpty()) {
                return n.get(0).asInt();
            }
        }
        return -1;
    }

    private static void addIds(Set<Integer> ids, JsonNode n) {
        if (n == null) {
            return;
        }
        if (n.isInt()) {
            ids.add(n.asInt());
        } else if (n.isArray()) {
            n.forEach(x -> ids.add(x.asInt()));
        }
    }

    /** The id of a token given by its text: an added (special) token, else a text that encodes to one token. */
    public int tokenId(String text) {
        Integer id = addedTokens.get(text);
        if (id != null) {
            return id;
        }
        long[] ids = tokenizer.encode(text, false, false).getIds();
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + text + "' is not a single token of " + dir);
        }
        return (int) ids[0];
    }

    /** Token ids and, for each, the code-point range of {@code text} it came from. */
    public Tokens encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int[] out = new int[ids.length];
        int[] start = new int[ids.length];
        int[] end = new int[ids.length];
        int prevEnd = 0;
        for (int k = 0; k < ids.length; k++) {
            out[k] = (int) ids[k];
            if (spans[k] == null) { // tokens with no source text take an empty span where they stand
                start[k] = prevEnd;
                end[k] = prevEnd;
            } else {
                start[k] = spans[k].getStart();
                end[k] = spans[k].getEnd();
            }
            prevEnd = end[k];
        }
        return new Tokens(out, start, end);
    }

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int k = 0; k < ids.length; k++) {
            l[k] = ids[k];
        }
        return tokenizer.decode(l, false);
    }

    /** Whether {@code text} is one of the tokenizer's added (special) tokens. */
    public boolean hasAddedToken(String text) {
        return addedTokens.containsKey(text);
    }

    /** The texts of the stop tokens, as they appear in rendered chat text. */
    public List<String> stopTokenTexts() {
        java.util.ArrayList<String> texts = new java.util.ArrayList<>();
        for (int id : special.stopIds()) {
            String text = null;
            for (Map.Entry<String, Integer> e : addedTokens.entrySet()) {
                if (e.getValue() == id) {
                    text = e.getKey();
                    break;
                }
            }
            texts.add(text != null ? text : decode(new int[] {id}));
        }
        return texts;
    }

    public SpecialTokens specialTokens() {
        return special;
    }

    /** The model's own chat template (chat_template.jinja, or tokenizer_config.json's chat_template), if any. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    public Path directory() {
        return dir;
    }

    /** The file the model's chat template was read from: chat_template.jinja, tokenizer_config.json or chat_template.json. */
    public Path chatTemplateFile() {
        return chatTemplateFile;
    }

    private static boolean hasKey(Path tokenizerConfig) {
        JsonNode t = readJson(tokenizerConfig).get("chat_template");
        return t != null && !t.isNull();
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * Token ids with their source ranges, in code points of the encoded text (as the tokenizers library
     * reports them): token k came from code points [start[k], end[k]).
     */
    public record Tokens(int[] ids, int[] start, int[] end) {
        public int size() {
            return ids.length;
        }
    }
}
