package dev.finetune.trainer.data.format;

import static dev.finetune.trainer.data.Samples.learnedRuns;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.trainer.data.TestModels;
import dev.finetune.trainer.data.label.ConversationEncoder;
import dev.finetune.trainer.data.label.EncodedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every format, read from a real file, detected, converted and encoded with the Qwen3 tokenizer and the
 * chatml template. Expected ids were checked token by token against HF tokenizers:
 * 151644 &lt;|im_start|&gt;, 872 user, 198 \n, 13048 Hi, 151645 &lt;|im_end|&gt;, 77091 assistant, 9707 Hello.
 */
class FormatsTest {

    static final int[] HI_HELLO = {151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198, 9707, 151645, 198};
    static final int I = Labels.IGNORE;
    static final int[] HI_HELLO_LABELS = {I, I, I, I, I, I, I, I, I, 9707, 151645, I};

    @TempDir
    Path dir;

    final ModelTokenizer qwen = TestModels.tokenizer(TestModels.QWEN3);
    final ConversationEncoder chatml = new ConversationEncoder(ChatTemplate.named("chatml"), qwen,
            TrainOn.ALL_ASSISTANT_TURNS, null, null);

    List<Conversation> read(String fileName, String content, Map<String, String> columns, DatasetFormat expected)
            throws IOException {
        Path f = dir.resolve(fileName);
        Files.writeString(f, content);
        Formats formats = new Formats(columns, List.of("score"));
        List<RawRecord> records = RecordReader.read(f, null);
        assertThat(formats.detect(records.getFirst())).isEqualTo(expected);
        return records.stream().map(r -> formats.convert(DatasetFormat.AUTO, r)).toList();
    }

    @Test
    void alpaca() throws IOException {
        Conversation c = read("a.jsonl", "{\"instruction\": \"Hi\", \"output\": \"Hello\"}\n", null, DatasetFormat.ALPACA)
                .getFirst();
        EncodedSample s = chatml.encode(c);
        assertThat(s.inputIds()).containsExactly(HI_HELLO);
        assertThat(s.labels()).containsExactly(HI_HELLO_LABELS);
    }

    @Test
    void alpacaJoinsInputToInstructionWithANewline() throws IOException {
        Conversation c = read("a.json", "[{\"instruction\": \"Name a colour.\", \"input\": \"sea\", \"output\": \"Blue\"}]",
                null, DatasetFormat.ALPACA).getFirst();
        EncodedSample s = chatml.encode(c);
        assertThat(s.inputIds()).containsExactly(151644, 872, 198, 675, 264, 12463, 624, 36441, 151645, 198, 151644, 77091,
                198, 10331, 151645, 198);
        assertThat(learnedRuns(qwen, s)).containsExactly("Blue<|im_end|>");
    }

    @Test
    void alpacaSystemAndHistoryBecomeEarlierTurns() throws IOException {
        Conversation c = read("a.jsonl", "{\"system\": \"Be brief.\", \"history\": [[\"Hi\", \"Hello\"]], "
                + "\"instruction\": \"Bye\", \"input\": \"\", \"output\": \"Ciao\", \"score\": 0.5}", null, DatasetFormat.ALPACA)
                .getFirst();
        assertThat(c.messages()).containsExactly(Message.system("Be brief."), Message.user("Hi"), Message.assistant("Hello"),
                Message.user("Bye"), Message.assistant("Ciao"));
        assertThat(c.scores()).containsEntry("score", 0.5);
        assertThat(learnedRuns(qwen, chatml.encode(c))).containsExactly("Hello<|im_end|>", "Ciao<|im_end|>");
    }

    @Test
    void conversation() throws IOException {
        Conversation c = read("c.jsonl", "{\"conversation\": [{\"system\": \"S\", \"input\": \"Hi\", \"output\": \"Hello\"}, "
                + "{\"input\": \"Hi\", \"output\": \"Hello\"}]}", null, DatasetFormat.CONVERSATION).getFirst();
        assertThat(c.messages()).containsExactly(Message.system("S"), Message.user("Hi"), Message.assistant("Hello"),
                Message.user("Hi"), Message.assistant("Hello"));
        EncodedSample s = chatml.encode(c);
        assertThat(learnedRuns(qwen, s)).containsExactly("Hello<|im_end|>", "Hello<|im_end|>");
    }

    @Test
    void sharegpt() throws IOException {
        Conversation c = read("s.jsonl", "{\"conversations\": [{\"from\": \"human\", \"value\": \"Hi\"}, "
                + "{\"from\": \"gpt\", \"value\": \"Hello\"}]}", null, DatasetFormat.SHAREGPT).getFirst();
        EncodedSample s = chatml.encode(c);
        assertThat(s.inputIds()).containsExactly(HI_HELLO);
        assertThat(s.labels()).containsExactly(HI_HELLO_LABELS);
    }

    @Test
    void messages() throws IOException {
        Conversation c = read("m.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, "
                + "{\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"Hello\"}]}]}", null,
                DatasetFormat.MESSAGES).getFirst();
        EncodedSample s = chatml.encode(c);
        assertThat(s.inputIds()).containsExactly(HI_HELLO);
        assertThat(s.labels()).containsExactly(HI_HELLO_LABELS);
    }

    @Test
    void preferenceTrainsOnChosenAndKeepsRejected() throws IOException {
        Conversation c = read("p.jsonl", "{\"prompt\": \"Hi\", \"chosen\": \"Hello\", \"rejected\": \"Go away\"}", null,
                DatasetFormat.PREFERENCE).getFirst();
        EncodedSample chosen = chatml.encode(c);
        assertThat(chosen.inputIds()).containsExactly(HI_HELLO);
        assertThat(chosen.labels()).containsExactly(HI_HELLO_LABELS);
        EncodedSample rejected = chatml.encodeRejected(c);
        assertThat(learnedRuns(qwen, rejected)).containsExactly("Go away<|im_end|>");
    }

    @Test
    void preferenceInConversationalForm() throws IOException {
        Conversation c = read("p.jsonl", "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"chosen\": [{\"role\": \"assistant\", \"content\": \"Hello\"}], "
                + "\"rejected\": [{\"role\": \"assistant\", \"content\": \"No\"}]}", null, DatasetFormat.PREFERENCE).getFirst();
        assertThat(chatml.encode(c).inputIds()).containsExactly(HI_HELLO);
        assertThat(c.rejected()).isEqualTo("No");
    }

    @Test
    void textIsBosTextEosAllLearned() throws IOException {
        Conversation c = read("t.jsonl", "{\"text\": \"Hello world\"}", null, DatasetFormat.TEXT).getFirst();
        ModelTokenizer llama = TestModels.tokenizer(TestModels.LLAMA3);
        EncodedSample s = new ConversationEncoder(null, llama, TrainOn.ALL_ASSISTANT_TURNS, null, null).encode(c);
        assertThat(s.inputIds()).containsExactly(128000, 9906, 1917, 128001);
        assertThat(s.labels()).containsExactly(I, 9906, 1917, 128001);
    }

    @Test
    void textWithoutBosForQwen() throws IOException {
        Conversation c = read("t.jsonl", "{\"text\": \"Hi\"}", null, DatasetFormat.TEXT).getFirst();
        EncodedSample s = chatml.encode(c);
        assertThat(s.inputIds()).containsExactly(13048, 151645);
        assertThat(s.labels()).containsExactly(13048, 151645);
    }

    @Test
    void columnsRenameFields() throws IOException {
        Conversation c = read("a.jsonl", "{\"question\": \"Hi\", \"answer\": \"Hello\"}",
                Map.of("instruction", "question", "output", "answer"), DatasetFormat.ALPACA).getFirst();
        assertThat(chatml.encode(c).inputIds()).containsExactly(HI_HELLO);
    }

    @Test
    void sharegptWithRenamedKeys() throws IOException {
        Conversation c = read("s.jsonl", "{\"dialog\": [{\"speaker\": \"user\", \"text\": \"Hi\"}, "
                + "{\"speaker\": \"assistant\", \"text\": \"Hello\"}]}",
                Map.of("conversations", "dialog", "from", "speaker", "value", "text"), DatasetFormat.SHAREGPT).getFirst();
        assertThat(chatml.encode(c).inputIds()).containsExactly(HI_HELLO);
    }

    @Test
    void directoryReadsAllJsonAndJsonlFilesInNameOrder() throws IOException {
        Files.writeString(dir.resolve("b.jsonl"), "{\"text\": \"b1\"}\n\n{\"text\": \"b2\"}\n");
        Files.writeString(dir.resolve("a.json"), "[{\"text\": \"a1\"}]");
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        List<RawRecord> records = RecordReader.read(dir, null);
        assertThat(records).extracting(r -> r.json().get("text").asText()).containsExactly("a1", "b1", "b2");
        assertThat(records.get(2).location().line()).isEqualTo(3);
        assertThat(records.get(2).location().recordIndex()).isEqualTo(1);
    }
}
