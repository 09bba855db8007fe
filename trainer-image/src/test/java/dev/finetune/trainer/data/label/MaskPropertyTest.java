package dev.finetune.trainer.data.label;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.trainer.data.Samples;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.TestModels;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.format.Conversation;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.testing.Rows;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Property: on random conversations, for every real template, labels never cover system or user text,
 * template scaffolding before the reply, or padding; every assistant turn is learned; every learned run ends
 * with a stop token. User text is Greek, system text Cyrillic, assistant text Latin, so a learned token that
 * strayed into a prompt shows up as a foreign letter.
 */
class MaskPropertyTest {

    record Case(String name, String tokenizer, String named, TrainOn trainOn, Boolean thinking) {
    }

    static final List<Case> CASES = List.of(
            new Case("qwen3 own, last turn, thinking off", TestModels.QWEN3, null, TrainOn.LAST_ASSISTANT_TURN, false),
            new Case("qwen3 + chatml, all turns", TestModels.QWEN3, "chatml", TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("llama3 own, all turns", TestModels.LLAMA3, null, TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("llama3 + named llama3, all turns", TestModels.LLAMA3, "llama3", TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("gemma3 own, all turns", TestModels.GEMMA3, null, TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("deepseek_v3 own, all turns", TestModels.DEEPSEEK_V3, null, TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("llama3 + zephyr, all turns", TestModels.LLAMA3, "zephyr", TrainOn.ALL_ASSISTANT_TURNS, null),
            new Case("gemma3 + alpaca, all turns", TestModels.GEMMA3, "alpaca", TrainOn.ALL_ASSISTANT_TURNS, null));

    static final String GREEK = "αβγδεζηθικλμνξοπρστυφχψω";
    static final String CYRILLIC = "абвгдежзиклмнопрстуфхцч";
    static final String LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    static String words(Random r, String alphabet, int maxWords) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(maxWords);
        for (int w = 0; w < n; w++) {
            if (w > 0) {
                sb.append(r.nextInt(6) == 0 ? "\n" : " ");
            }
            int len = 1 + r.nextInt(7);
            for (int k = 0; k < len; k++) {
                sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            if (r.nextInt(5) == 0) {
                sb.append(r.nextBoolean() ? "." : "!");
            }
        }
        return sb.toString();
    }

    static Conversation randomConversation(Random r, int index) {
        List<Message> m = new ArrayList<>();
        if (r.nextBoolean()) {
            m.add(Message.system(words(r, CYRILLIC, 8)));
        }
        int turns = 1 + r.nextInt(3);
        for (int t = 0; t < turns; t++) {
            m.add(Message.user(words(r, GREEK, 12)));
            m.add(Message.assistant(words(r, LATIN, 12)));
        }
        return new Conversation(m, null, null, null, new SourceLocation("random", 0, 0, index));
    }

    @TestFactory
    Stream<DynamicTest> labelsCoverOnlyAssistantRepliesAndTheirStopToken() {
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    static void check(Case c) {
        ModelTokenizer tok = TestModels.tokenizer(c.tokenizer());
        ChatTemplate template = c.named() == null ? ChatTemplate.of("model", "test", tok.chatTemplate().orElseThrow())
                : ChatTemplate.named(c.named());
        ConversationEncoder encoder = new ConversationEncoder(template, tok, c.trainOn(), c.thinking(), null);
        List<String> stops = tok.stopTokenTexts();
        Random r = new Random(c.name().hashCode());
        List<TokenizedSample> samples = new ArrayList<>();
        for (int n = 0; n < 60; n++) {
            Conversation conv = randomConversation(r, n);
            EncodedSample s = encoder.encode(conv);
            for (int k = 0; k < s.length(); k++) {
                assertThat(s.labels()[k]).isIn(Labels.IGNORE, s.inputIds()[k]);
            }
            List<String> runs = Samples.learnedRuns(tok, s);
            List<Message> replies = conv.messages().stream()
                    .filter(m -> m.role() == dev.finetune.trainer.data.format.Role.ASSISTANT).toList();
            if (c.trainOn() == TrainOn.LAST_ASSISTANT_TURN) {
                replies = List.of(replies.getLast());
            }
            assertThat(runs).as("one learned run per assistant reply in %s", s.renderedText()).hasSize(replies.size());
            for (int k = 0; k < runs.size(); k++) {
                String run = runs.get(k);
                assertThat(run.chars().noneMatch(ch -> GREEK.indexOf(ch) >= 0 || CYRILLIC.indexOf(ch) >= 0))
                        .as("learned run %s holds no prompt text", run).isTrue();
                assertThat(stops.stream().anyMatch(run::endsWith)).as("run %s ends with a stop token %s", run, stops).isTrue();
                assertThat(run).contains(replies.get(k).content().strip());
            }
            samples.add(new TokenizedSample(s.inputIds(), s.labels(), conv.location(), s.length(), Map.of(), null, null));
        }
        // and padding is never learned, packed or not
        for (boolean packing : new boolean[] {false, true}) {
            Batcher b = new Batcher(samples, new Batcher.Options(4, tok.specialTokens().padId(), 2048, packing, false, 1, 0, 1));
            for (Batch batch : b.trainEpoch(0)) {
                for (int row = 0; row < batch.rows(); row++) {
                    int[] labels = Rows.labels(batch, row);
                    for (int k = Rows.length(batch, row); k < batch.length(); k++) {
                        assertThat(labels[k]).isEqualTo(Labels.IGNORE);
                    }
                }
            }
        }
    }
}
