package dev.finetune.trainer.data.label;

import static dev.finetune.trainer.data.Samples.learnedRuns;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.TestModels;
import dev.finetune.trainer.data.format.Conversation;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Hand-checked label masks on the real tokenizers and their own chat templates. */
class ConversationEncoderTest {

    static ModelTokenizer qwen3;
    static ModelTokenizer llama3;
    static ModelTokenizer gemma3;
    static ModelTokenizer deepseek;

    @BeforeAll
    static void load() {
        qwen3 = TestModels.tokenizer(TestModels.QWEN3);
        llama3 = TestModels.tokenizer(TestModels.LLAMA3);
        gemma3 = TestModels.tokenizer(TestModels.GEMMA3);
        deepseek = TestModels.tokenizer(TestModels.DEEPSEEK_V3);
    }

    static final SourceLocation HERE = new SourceLocation("test.jsonl", 1, 0, 0);

    static Conversation chat(Message... m) {
        return new Conversation(List.of(m), null, null, null, HERE);
    }

    static ConversationEncoder encoder(ModelTokenizer tok, TrainOn trainOn, Boolean thinking) {
        ChatTemplate t = ChatTemplate.of("model", "test", tok.chatTemplate().orElseThrow());
        return new ConversationEncoder(t, tok, trainOn, thinking, null);
    }

    @Test
    void qwen3SingleTurnLearnsTheEmptyThinkBlockAnswerAndImEnd() {
        EncodedSample s = encoder(qwen3, TrainOn.ALL_ASSISTANT_TURNS, null)
                .encode(chat(Message.user("What is the capital of France?"), Message.assistant("Paris.")));
        assertThat(s.renderedText()).isEqualTo("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\nParis.<|im_end|>\n");
        assertThat(learnedRuns(qwen3, s)).containsExactly("<think>\n\n</think>\n\nParis.<|im_end|>");
        // learned span ends with <|im_end|> (151645); the trailing newline stays masked
        int last = lastLearned(s);
        assertThat(s.inputIds()[last]).isEqualTo(151645);
        assertThat(s.labels()[s.length() - 1]).isEqualTo(Labels.IGNORE);
        assertThat(s.inputIds()[0]).isEqualTo(151644); // <|im_start|>, no BOS for Qwen
    }

    @Test
    void qwen3WithThinkingOffLearnsOnlyTheAnswer() {
        EncodedSample s = encoder(qwen3, TrainOn.ALL_ASSISTANT_TURNS, false)
                .encode(chat(Message.user("2+2?"), Message.assistant("4")));
        assertThat(learnedRuns(qwen3, s)).containsExactly("4<|im_end|>");
    }

    @Test
    void qwen3MultiTurnIsRefusedForAllTurnsWithTheFix() {
        Conversation c = chat(Message.user("2+2?"), Message.assistant("4"), Message.user("3+3?"), Message.assistant("6"));
        assertThatThrownBy(() -> encoder(qwen3, TrainOn.ALL_ASSISTANT_TURNS, null).encode(c))
                .isInstanceOfSatisfying(DatasetException.class, e -> {
                    assertThat(e.location()).isEqualTo(HERE);
                    assertThat(e.field()).isEqualTo("messages[1]");
                    assertThat(e.problem()).contains("renders this turn differently");
                    assertThat(e.hint()).contains("trainOn: lastAssistantTurn");
                });
    }

    @Test
    void qwen3MultiTurnSplitIntoOneSamplePerTurnLearnsEachTurnAsGenerated() {
        Conversation c = chat(Message.user("2+2?"), Message.assistant("4"), Message.user("3+3?"), Message.assistant("6"));

        List<EncodedSample> turns = encoder(qwen3, TrainOn.ALL_ASSISTANT_TURNS, null).encodeEachAssistantTurn(c);

        assertThat(turns).hasSize(2);
        // each turn is the newest one in its sample, so it carries the (empty) think block Qwen3 generates
        assertThat(learnedRuns(qwen3, turns.get(0))).containsExactly("<think>\n\n</think>\n\n4<|im_end|>");
        assertThat(learnedRuns(qwen3, turns.get(1))).containsExactly("<think>\n\n</think>\n\n6<|im_end|>");
        // the second sample's prompt holds the first exchange, with the earlier reasoning dropped as Qwen3 renders it
        assertThat(turns.get(1).renderedText()).startsWith("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n");
        assertThat(turns.get(1).inputIds()[lastLearned(turns.get(1))]).isEqualTo(151645);
    }

    @Test
    void refusalNamesSplitTurnsAsTheFix() {
        Conversation c = chat(Message.user("2+2?"), Message.assistant("4"), Message.user("3+3?"), Message.assistant("6"));
        assertThatThrownBy(() -> encoder(qwen3, TrainOn.ALL_ASSISTANT_TURNS, null).encode(c))
                .isInstanceOfSatisfying(DatasetException.class, e -> assertThat(e.hint()).contains("dataset.splitTurns: true"));
    }

    @Test
    void qwen3MultiTurnLastTurnOnly() {
        Conversation c = chat(Message.user("2+2?"), Message.assistant("4"), Message.user("3+3?"), Message.assistant("6"));
        EncodedSample s = encoder(qwen3, TrainOn.LAST_ASSISTANT_TURN, false).encode(c);
        assertThat(learnedRuns(qwen3, s)).containsExactly("6<|im_end|>");
    }

    @Test
    void llama3LearnsEveryAssistantTurnEndingWithEotId() {
        Conversation c = chat(Message.system("Answer in one word."), Message.user("Colour of the sky?"),
                Message.assistant("Blue."), Message.user("And grass?"), Message.assistant("Green."));
        EncodedSample s = encoder(llama3, TrainOn.ALL_ASSISTANT_TURNS, null).encode(c);
        assertThat(learnedRuns(llama3, s)).containsExactly("Blue.<|eot_id|>", "Green.<|eot_id|>");
        assertThat(s.inputIds()[0]).isEqualTo(128000); // <|begin_of_text|>
        assertThat(s.inputIds()[lastLearned(s)]).isEqualTo(128009); // <|eot_id|>
    }

    @Test
    void gemma3LearnsModelTurnsEndingWithEndOfTurn() {
        Conversation c = chat(Message.system("Be brief."), Message.user("Capital of Japan?"), Message.assistant("Tokyo."));
        EncodedSample s = encoder(gemma3, TrainOn.ALL_ASSISTANT_TURNS, null).encode(c);
        assertThat(s.renderedText()).isEqualTo("<bos><start_of_turn>user\nBe brief.\n\nCapital of Japan?<end_of_turn>\n"
                + "<start_of_turn>model\nTokyo.<end_of_turn>\n");
        assertThat(learnedRuns(gemma3, s)).containsExactly("Tokyo.<end_of_turn>");
        assertThat(s.inputIds()[0]).isEqualTo(2); // <bos>
        assertThat(s.inputIds()[lastLearned(s)]).isEqualTo(106); // <end_of_turn>
    }

    @Test
    void deepseekV3LearnsAnswersEndingWithEndOfSentence() {
        Conversation c = chat(Message.user("2+2?"), Message.assistant("4"), Message.user("3+3?"), Message.assistant("6"));
        EncodedSample s = encoder(deepseek, TrainOn.ALL_ASSISTANT_TURNS, null).encode(c);
        assertThat(learnedRuns(deepseek, s)).containsExactly("4<｜end▁of▁sentence｜>", "6<｜end▁of▁sentence｜>");
    }

    @Test
    void promptAndCompletionLearnsEverything() {
        EncodedSample s = encoder(llama3, TrainOn.PROMPT_AND_COMPLETION, null)
                .encode(chat(Message.user("hi"), Message.assistant("hello")));
        assertThat(s.labels()).isEqualTo(s.inputIds());
    }

    @Test
    void namedTemplateWithoutTheModelsStopTokenIsRefused() {
        ConversationEncoder e = new ConversationEncoder(ChatTemplate.named("chatml"), llama3, TrainOn.ALL_ASSISTANT_TURNS,
                null, null);
        assertThatThrownBy(() -> e.encode(chat(Message.user("hi"), Message.assistant("hello"))))
                .isInstanceOf(DatasetException.class).hasMessageContaining("never learn to stop");
    }

    @Test
    void systemPromptIsAddedWhenTheRecordHasNone() {
        ConversationEncoder e = new ConversationEncoder(ChatTemplate.named("chatml"), qwen3, TrainOn.ALL_ASSISTANT_TURNS,
                null, "You are terse.");
        EncodedSample s = e.encode(chat(Message.user("hi"), Message.assistant("hello")));
        assertThat(s.renderedText()).startsWith("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nhi");
        assertThat(learnedRuns(qwen3, s)).containsExactly("hello<|im_end|>");
    }

    @Test
    void mistralTemplateRefusesNonAlternatingRolesWithTheTemplatesMessage() {
        ConversationEncoder e = new ConversationEncoder(ChatTemplate.named("mistral"), llama3, TrainOn.ALL_ASSISTANT_TURNS,
                null, null);
        assertThatThrownBy(() -> e.encode(chat(Message.user("a"), Message.user("b"), Message.assistant("c"))))
                .isInstanceOfSatisfying(DatasetException.class,
                        x -> assertThat(x.problem()).contains("Conversation roles must alternate"));
    }

    static ChatTemplate fixture(String file) throws java.io.IOException {
        try (var in = ConversationEncoderTest.class.getResourceAsStream("/goldens/chat-templates/fixtures/" + file)) {
            return ChatTemplate.of("model", file, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void qwen25InjectsItsDefaultSystemPromptMaskedAndLearnsTheReply() throws java.io.IOException {
        // Qwen2.5 and Qwen3 share these special tokens; the Qwen2.5 template text is a fixture
        ConversationEncoder e = new ConversationEncoder(fixture("qwen2.5-instruct.jinja"), qwen3, TrainOn.ALL_ASSISTANT_TURNS,
                null, null);
        EncodedSample s = e.encode(chat(Message.user("Hi"), Message.assistant("Hello")));
        assertThat(s.renderedText()).isEqualTo("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                + "assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n");
        assertThat(learnedRuns(qwen3, s)).containsExactly("Hello<|im_end|>");
        assertThat(s.inputIds()[lastLearned(s)]).isEqualTo(151645);
    }

    @Test
    void mistralLearnsTheReplyAfterInstAndItsEos() throws java.io.IOException {
        ConversationEncoder e = new ConversationEncoder(fixture("mistral-7b-instruct-v0.1.jinja"), llama3,
                TrainOn.ALL_ASSISTANT_TURNS, null, null);
        EncodedSample s = e.encode(chat(Message.user("Hi"), Message.assistant("Hello"), Message.user("Bye"),
                Message.assistant("Ciao")));
        assertThat(s.renderedText()).isEqualTo("<|begin_of_text|>[INST] Hi [/INST]Hello<|end_of_text|>[INST] Bye [/INST]"
                + "Ciao<|end_of_text|>");
        assertThat(learnedRuns(llama3, s)).containsExactly("Hello<|end_of_text|>", "Ciao<|end_of_text|>");
    }

    @Test
    void zephyrLearnsTheReplyAndEos() throws java.io.IOException {
        ConversationEncoder e = new ConversationEncoder(fixture("zephyr-7b-beta.jinja"), llama3, TrainOn.ALL_ASSISTANT_TURNS,
                null, null);
        EncodedSample s = e.encode(chat(Message.system("Be kind."), Message.user("Hi"), Message.assistant("Hello")));
        assertThat(s.renderedText()).isEqualTo("<|system|>\nBe kind.<|end_of_text|>\n<|user|>\nHi<|end_of_text|>\n"
                + "<|assistant|>\nHello<|end_of_text|>\n");
        // the generation prompt is "<|assistant|>\n" (the newline after the template's {{ }} is output): not learned
        assertThat(learnedRuns(llama3, s)).containsExactly("Hello<|end_of_text|>");
    }

    static int lastLearned(EncodedSample s) {
        for (int k = s.length() - 1; k >= 0; k--) {
            if (s.labels()[k] != Labels.IGNORE) {
                return k;
            }
        }
        return -1;
    }
}
