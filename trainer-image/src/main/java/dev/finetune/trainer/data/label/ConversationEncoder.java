package dev.finetune.trainer.data.label;

import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.jinja.JinjaException;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.format.Conversation;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.format.Role;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.data.tokenize.SpecialTokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link Conversation} into token ids and labels with the chat template (plain text records: BOS when
 * the tokenizer adds one, the text, EOS; every token but BOS learned).
 *
 * <p>How the learned spans are found (no knowledge of any particular template): the whole conversation is
 * rendered once; for assistant turn k, the conversation up to k is rendered with the generation prompt
 * ({@code prefix_k}) and up to and including k without it ({@code upto_k}). The turn's learned text runs from
 * the end of {@code prefix_k} to the end of the last stop token (eos, {@code <|im_end|>}, {@code <|eot_id|>},
 * ...) in {@code upto_k}, so every learned span ends with the token generation stops on, and template
 * scaffolding after it (a newline, the next header) stays masked. Both must agree with the full rendering;
 * when they do not, the template renders earlier turns differently from the turn being generated (Qwen3 drops
 * earlier reasoning), training would teach text the model never produces, and the record is refused.
 * Character ranges map to tokens through the tokenizer's offsets, so tokens merging across a boundary are
 * handled.
 */
public final class ConversationEncoder {

    private final ChatTemplate template;
    private final ModelTokenizer tokenizer;
    private final TrainOn trainOn;
    private final String systemPrompt;
    private final Map<String, String> specialVars;
    private final Map<String, Object> extraVars = new HashMap<>();
    private final List<String> stopTexts;
    private final SpecialTokens special;

    public ConversationEncoder(ChatTemplate template, ModelTokenizer tokenizer, TrainOn trainOn, Boolean enableThinking,
            String systemPrompt) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.trainOn = trainOn == null ? TrainOn.ALL_ASSISTANT_TURNS : trainOn;
        this.systemPrompt = systemPrompt;
        this.special = tokenizer.specialTokens();
        this.specialVars = special.templateVariables();
        this.stopTexts = tokenizer.stopTokenTexts();
        if (enableThinking != null) {
            extraVars.put("enable_thinking", enableThinking);
        }
    }

    public EncodedSample encode(Conversation c) {
        return c.isText() ? encodeText(c.text()) : encodeChat(c, c.messages(), trainOn);
    }

    /**
     * One sample per assistant turn (dataset.splitTurns): the conversation up to and including turn k, only
     * turn k learned. Each turn is then rendered as the newest one, exactly as at generation time, so
     * templates that rewrite earlier turns (Qwen3) train on what the model really produces.
     */
    public List<EncodedSample> encodeEachAssistantTurn(Conversation c) {
        if (c.isText()) {
            return List.of(encodeText(c.text()));
        }
        List<Message> messages = c.messages();
        List<EncodedSample> samples = new ArrayList<>();
        for (int k = 0; k < messages.size(); k++) {
            if (messages.get(k).role() == Role.ASSISTANT) {
                samples.add(encodeChat(c, messages.subList(0, k + 1), TrainOn.LAST_ASSISTANT_TURN));
            }
        }
        if (samples.isEmpty()) {
            throw new DatasetException(c.location(), "messages", "no assistant turn, so nothing would be learned",
                    "add the assistant's reply, or drop the record");
        }
        return samples;
    }

    /** The rejected reply of a preference record, encoded like the chosen one; null for other records. */
    public EncodedSample encodeRejected(Conversation c) {
        if (c.rejected() == null) {
            return null;
        }
        List<Message> m = new ArrayList<>(c.messages());
        m.set(m.size() - 1, Message.assistant(c.rejected()));
        return encodeChat(c, m, trainOn);
    }

    private EncodedSample encodeText(String text) {
        String bos = special.addBosToken() && special.bosId() >= 0 ? special.bos() : "";
        ModelTokenizer.Tokens t = tokenizer.encode(text);
        boolean withBos = !bos.isEmpty();
        boolean withEos = special.eosId() >= 0;
        int n = t.size() + (withBos ? 1 : 0) + (withEos ? 1 : 0);
        int[] ids = new int[n];
        int[] labels = new int[n];
        int k = 0;
        if (withBos) {
            ids[k] = special.bosId();
            labels[k++] = Labels.IGNORE;
        }
        for (int id : t.ids()) {
            ids[k] = id;
            labels[k++] = id;
        }
        if (withEos) {
            ids[k] = special.eosId();
            labels[k] = special.eosId();
        }
        String rendered = bos + text + (withEos ? special.eos() : "");
        return new EncodedSample(ids, labels, rendered, List.of(new int[] {bos.length(), rendered.length()}));
    }

    private EncodedSample encodeChat(Conversation c, List<Message> original, TrainOn trainOn) {
        List<Message> messages = original;
        if (systemPrompt != null && messages.stream().noneMatch(m -> m.role() == Role.SYSTEM)) {
            messages = new ArrayList<>(messages);
            messages.addFirst(Message.system(systemPrompt));
        }
        String full = render(c, messages, messages.size(), false);
        List<int[]> spans = new ArrayList<>();
        if (trainOn == TrainOn.PROMPT_AND_COMPLETION) {
            spans.add(new int[] {0, full.length()});
        } else {
            List<Integer> turns = new ArrayList<>();
            for (int k = 0; k < messages.size(); k++) {
                if (messages.get(k).role() == Role.ASSISTANT) {
                    turns.add(k);
                }
            }
            if (turns.isEmpty()) {
                throw new DatasetException(c.location(), "messages", "no assistant turn, so nothing would be learned",
                        "add the assistant's reply, or drop the record");
            }
            if (trainOn == TrainOn.LAST_ASSISTANT_TURN) {
                turns = List.of(turns.getLast());
            }
            for (int k : turns) {
                spans.add(assistantSpan(c, messages, k, full));
            }
        }
        return tokenize(full, spans);
    }

    private int[] assistantSpan(Conversation c, List<Message> messages, int k, String full) {
        if (k == 0 || messages.subList(0, k).stream().allMatch(m -> m.role() == Role.SYSTEM)) {
            throw new DatasetException(c.location(), "messages[" + k + "]",
                    "the conversation starts with an assistant turn; there is no prompt to learn it from",
                    "start with a user turn");
        }
        String withPrompt = render(c, messages, k, true);
        int start;
        if (full.startsWith(withPrompt)) {
            start = withPrompt.length();
        } else {
            // The generation prompt differs from how the template opens a finished assistant turn (e.g. it adds a
            // think tag the finished turn lacks): learn from where the two part, never from before the plain prompt.
            String plain = render(c, messages, k, false);
            if (!full.startsWith(plain)) {
                throw inconsistent(c, k, "the prompt before it");
            }
            start = Math.max(plain.length(), commonPrefix(withPrompt, full));
        }
        String upto = render(c, messages, k + 1, false);
        int end = -1;
        for (String stop : stopTexts) {
            int at = upto.lastIndexOf(stop);
            if (at >= start && at + stop.length() > end) {
                end = at + stop.length();
            }
        }
        if (end < 0) {
            throw new DatasetException(c.location(), "messages[" + k + "]",
                    "chat template '" + template.name() + "' does not end the assistant turn with any of the model's stop tokens "
                            + stopTexts + ", so the model would never learn to stop",
                    "use the model's own template (dataset.template: model) or a named one that matches the model's tokens");
        }
        int common = commonPrefix(upto, full);
        if (end > common) {
            throw inconsistent(c, k, "this turn");
        }
        return new int[] {start, end};
    }

    private DatasetException inconsistent(Conversation c, int k, String what) {
        return new DatasetException(c.location(), "messages[" + k + "]",
                "chat template '" + template.name() + "' renders " + what + " differently inside the whole conversation than "
                        + "when assistant turn " + k + " is the newest (e.g. Qwen3 drops <think> blocks and adds empty ones "
                        + "depending on the position of the last user turn), so its learned tokens would not match what the "
                        + "model generates",
                "set dataset.splitTurns: true (one sample per assistant turn), or dataset.trainOn: lastAssistantTurn, "
                        + "or use a template that renders turns the same everywhere (e.g. dataset.template: chatml)");
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int k = 0;
        while (k < n && a.charAt(k) == b.charAt(k)) {
            k++;
        }
        return k;
    }

    private String render(Conversation c, List<Message> messages, int count, boolean addGenerationPrompt) {
        if (template == null) {
            throw new DatasetException(c.location(), null, "a chat record, but the model has no chat template",
                    "set dataset.template to a named one: " + ChatTemplate.NAMED.stream().sorted().toList());
        }
        try {
            return template.render(messages.subList(0, count), addGenerationPrompt, specialVars, extraVars);
        } catch (JinjaException.Raised e) {
            throw new DatasetException(c.location(), "messages", "chat template '" + template.name()
                    + "' refuses this conversation: " + e.templateMessage(),
                    "fix the roles or their order, or choose another template with dataset.template", e);
        } catch (JinjaException e) {
            throw new DatasetException(c.location(), "messages", "chat template '" + template.name()
                    + "' failed on this conversation: " + e.getMessage(),
                    "choose another template with dataset.template (or report the template)", e);
        }
    }

    private EncodedSample tokenize(String text, List<int[]> spans) {
        ModelTokenizer.Tokens t = tokenizer.encode(text);
        int[] labels = new int[t.size()];
        Arrays.fill(labels, Labels.IGNORE);
        for (int[] span : spans) {
            int cpStart = text.codePointCount(0, span[0]);
            int cpEnd = text.codePointCount(0, span[1]);
            for (int k = 0; k < t.size(); k++) {
                if (t.start()[k] < cpEnd && t.end()[k] > cpStart) {
                    labels[k] = t.ids()[k];
                }
            }
        }
        return new EncodedSample(t.ids(), labels, text, List.copyOf(spans));
    }
}
