package dev.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.data.format.Formats;
import dev.finetune.trainer.data.format.RawRecord;
import dev.finetune.trainer.data.format.RecordReader;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of bad input fails with file, line (or record) and field named, and a hint; or is skipped and counted. */
class BadInputTest {

    @TempDir
    Path dir;

    Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    static DatasetException failure(ThrowingCallable call) {
        List<DatasetException> caught = new ArrayList<>();
        assertThatThrownBy(call).isInstanceOfSatisfying(DatasetException.class, caught::add);
        DatasetException e = caught.getFirst();
        assertThat(e.hint()).isNotBlank();
        return e;
    }

    DatasetException convert(String file, String content) throws IOException {
        Path p = write(file, content);
        return failure(() -> {
            Formats f = new Formats(null, null);
            for (RawRecord r : RecordReader.read(p, null)) {
                f.convert(DatasetFormat.AUTO, r);
            }
        });
    }

    @Test
    void malformedJsonLineNamesFileLineAndColumn() throws IOException {
        Path p = write("d.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"broken\" \"x\"}\n");
        DatasetException e = failure(() -> RecordReader.read(p, null));
        assertThat(e.location().file()).endsWith("d.jsonl");
        assertThat(e.location().line()).isEqualTo(2);
        assertThat(e.location().column()).isEqualTo(19);
        assertThat(e.getMessage()).contains("d.jsonl:2:19").contains("malformed JSON");
    }

    @Test
    void malformedJsonArrayNamesLineAndColumn() throws IOException {
        Path p = write("d.json", "[\n  {\"text\": \"a\"},\n  {\"text\": \"b\",}\n]");
        DatasetException e = failure(() -> RecordReader.read(p, null));
        assertThat(e.location().line()).isEqualTo(3);
        assertThat(e.location().column()).isPositive();
    }

    @Test
    void nonUtf8BytesNameLineAndColumn() throws IOException {
        Path p = dir.resolve("latin1.jsonl");
        byte[] good = "{\"text\": \"ok\"}\n{\"text\": \"caf".getBytes();
        byte[] bytes = new byte[good.length + 3];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[good.length] = (byte) 0xE9; // é in Latin-1
        bytes[good.length + 1] = '"';
        bytes[good.length + 2] = '}';
        Files.write(p, bytes);
        DatasetException e = failure(() -> RecordReader.read(p, null));
        assertThat(e.location().line()).isEqualTo(2);
        assertThat(e.location().column()).isEqualTo(14);
        assertThat(e.problem()).contains("not valid UTF-8").contains("0xE9");
        assertThat(e.hint()).contains("iconv");
    }

    /**
     * data/ holding train.jsonl and eval.jsonl, with dataset.pvc.path data and evalPath data/eval.jsonl, trained on
     * the eval records too ("400 train, 40 eval" from 400 records): the eval loss measured memorised records.
     */
    @Test
    void evalDataThatIsAlsoTrainingDataIsRefused() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path train = Files.writeString(data.resolve("train.jsonl"), "{\"text\": \"a\"}\n");
        Path eval = Files.writeString(data.resolve("eval.jsonl"), "{\"text\": \"b\"}\n");

        DatasetException inDir = failure(() -> DatasetPipeline.requireEvalApart(data, eval));
        assertThat(inDir.getMessage()).contains(eval + ": field 'dataset.evalPath': is also training data: it is in the "
                + "training directory " + data).contains("point dataset.pvc.path at the training file alone (e.g. data/train.jsonl)");
        DatasetException same = failure(() -> DatasetPipeline.requireEvalApart(train, dir.resolve("data/../data/train.jsonl")));
        assertThat(same.problem()).contains("it is the training file");
        assertThat(same.hint()).contains("dataset.evalSplit");

        DatasetPipeline.requireEvalApart(train, eval);
    }

    /** A FIFO as the dataset blocked the run forever, waiting for a writer: it is refused before any read. */
    @Test
    void aFifoIsRefusedInsteadOfWaitedOn() throws Exception {
        Path fifo = dir.resolve("train.jsonl");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();

        DatasetException e = failure(() -> RecordReader.read(fifo, null));
        assertThat(e.problem()).isEqualTo("is not a regular file (a FIFO, socket or device)");
        assertThat(e.location().file()).isEqualTo(fifo.toString());
    }

    /** The iconv -f latin1 advice would garble these: they are named for what they are. */
    @Test
    void utf16AndGzipFilesAreNamedForWhatTheyAre() throws IOException {
        Path utf16 = dir.resolve("utf16.jsonl");
        Files.write(utf16, "{\"text\": \"ok\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        byte[] withMark = Files.readAllBytes(utf16);
        byte[] marked = new byte[withMark.length + 2];
        marked[0] = (byte) 0xFF;
        marked[1] = (byte) 0xFE;
        System.arraycopy(withMark, 0, marked, 2, withMark.length);
        Files.write(utf16, marked);
        DatasetException u = failure(() -> RecordReader.read(utf16, null));
        assertThat(u.problem()).isEqualTo("is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8");
        assertThat(u.hint()).contains("iconv -f utf-16 -t utf-8");

        Path gz = dir.resolve("train.jsonl");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write("{\"text\": \"ok\"}\n".getBytes());
        }
        DatasetException g = failure(() -> RecordReader.read(gz, null));
        assertThat(g.problem()).isEqualTo("is gzip-compressed, not UTF-8 text");
        assertThat(g.hint()).contains("gunzip");
    }

    /**
     * JSON Lines saved as .json (common on the Hugging Face hub) gave its first record and silently dropped the rest:
     * a 400-record dataset trained on one. It is read line by line now, and other text after a .json file's one
     * object is an error.
     */
    @Test
    void jsonLinesSavedAsJsonAreReadLineByLine() throws IOException {
        Path p = write("train.json", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n\n{\"text\": \"c\"}\n");
        assertThat(RecordReader.read(p, null)).extracting(r -> r.json().get("text").asText()).containsExactly("a", "b", "c");
        Path bad = write("bad.json", "{\"text\": \"a\"}\n{\"text\": \"b\" \"x\"}\n");
        DatasetException e = failure(() -> RecordReader.read(bad, null));
        assertThat(e.getMessage()).contains("bad.json:2:");
        Path trailing = write("trailing.json", "{\"text\": \"a\"}\n}\n");
        DatasetException t = failure(() -> RecordReader.read(trailing, null));
        assertThat(t.getMessage()).contains("trailing.json:2:1").contains("malformed JSON");
        Path one = write("one.json", "{\n  \"text\": \"pretty\"\n}\n");
        assertThat(RecordReader.read(one, null)).hasSize(1);
    }

    @Test
    void missingFieldNamesTheFieldAndLine() throws IOException {
        DatasetException e = convert("a.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n{\"instruction\": \"x\"}\n");
        assertThat(e.location().line()).isEqualTo(2);
        assertThat(e.location().recordIndex()).isEqualTo(1);
        assertThat(e.field()).isEqualTo("output");
        assertThat(e.problem()).contains("missing").contains("instruction");
        assertThat(e.hint()).contains("dataset.columns");
    }

    /** One bad record: the field the error names and a fragment of its problem. */
    record BadRecord(String what, String record, String field, String problem) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<BadRecord> badRecords() {
        return List.of(
                new BadRecord("an empty output", "{\"instruction\": \"x\", \"output\": \"  \"}", "output", "empty"),
                new BadRecord("an empty assistant message", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, "
                        + "{\"role\": \"assistant\", \"content\": \"\"}]}", "messages[1].content", "empty"),
                new BadRecord("an unknown ShareGPT role", "{\"conversations\": [{\"from\": \"human\", \"value\": \"x\"}, "
                        + "{\"from\": \"bot\", \"value\": \"y\"}]}", "conversations[1].from", "unknown role 'bot'"),
                new BadRecord("an unknown messages role", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, "
                        + "{\"role\": \"tool\", \"content\": \"y\"}]}", "messages[1].role", "unknown role 'tool'"),
                new BadRecord("a number where a string belongs", "{\"instruction\": 42, \"output\": \"y\"}", "instruction",
                        "a number, expected a string"),
                new BadRecord("a conversation without an assistant turn",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", "messages", "no assistant turn"),
                new BadRecord("content as a list of strings", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, "
                        + "{\"role\": \"assistant\", \"content\": [\"y\"]}]}", "messages[1].content[0]",
                        "is a string, expected a content part object"),
                new BadRecord("a text part without its text", "{\"messages\": [{\"role\": \"user\", \"content\": "
                        + "[{\"type\": \"text\", \"content\": \"x\"}]}, {\"role\": \"assistant\", \"content\": \"y\"}]}",
                        "messages[0].content[0]", "text part without a string \"text\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRecords")
    void aBadRecordNamesItsFieldAndProblem(BadRecord bad) throws IOException {
        DatasetException e = convert("d.jsonl", bad.record());
        assertThat(e.location().line()).isEqualTo(1);
        assertThat(e.field()).isEqualTo(bad.field());
        assertThat(e.problem()).contains(bad.problem());
    }

    DatasetException convertAs(DatasetFormat format, String file, String content) throws IOException {
        Path p = write(file, content);
        return failure(() -> {
            Formats f = new Formats(null, null);
            for (RawRecord r : RecordReader.read(p, null)) {
                f.convert(format, r);
            }
        });
    }

    @Test
    void recordWithoutItsListFieldIsALocatedErrorInEveryListFormat() throws IOException {
        for (DatasetFormat format : List.of(DatasetFormat.MESSAGES, DatasetFormat.SHAREGPT, DatasetFormat.CONVERSATION)) {
            String key = switch (format) {
                case MESSAGES -> "messages";
                case SHAREGPT -> "conversations";
                default -> "conversation";
            };
            DatasetException e = convertAs(format, key + ".jsonl", "\n{\"system\": \"s\"}\n");
            assertThat(e.location().line()).as(format.name()).isEqualTo(2);
            assertThat(e.field()).isEqualTo(key);
            assertThat(e.problem()).contains("is missing").contains("[system]");
        }
    }

    @Test
    void listFieldThatIsNullOrEmptyIsNamed() throws IOException {
        DatasetException isNull = convertAs(DatasetFormat.MESSAGES, "n.jsonl", "{\"messages\": null}");
        assertThat(isNull.field()).isEqualTo("messages");
        assertThat(isNull.problem()).contains("is missing");
        DatasetException empty = convert("e.jsonl", "{\"conversations\": []}");
        assertThat(empty.field()).isEqualTo("conversations");
        assertThat(empty.problem()).contains("is an empty list");
    }

    @Test
    void fileReadWithTheWrongFormatSaysWhichFormatItIs() throws IOException {
        DatasetException e = convertAs(DatasetFormat.MESSAGES, "alpaca.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}");
        assertThat(e.location().line()).isEqualTo(1);
        assertThat(e.field()).isEqualTo("messages");
        assertThat(e.problem()).contains("dataset.format is messages").contains("[instruction, output]").contains("alpaca data");
        assertThat(e.hint()).contains("dataset.format: alpaca").contains("auto");
        DatasetException text = convertAs(DatasetFormat.ALPACA, "m.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}");
        assertThat(text.field()).isEqualTo("instruction");
        assertThat(text.hint()).contains("dataset.format: messages");
    }

    @Test
    void wrongFormatRecordsAreSkippedWithSkipInvalidRecords() throws IOException {
        Path p = write("mixed.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
                + "{\"role\": \"assistant\", \"content\": \"b\"}]}\n"
                + "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                + "{\"system\": \"only\"}\n"
                + "{\"messages\": [{\"role\": \"user\", \"content\": \"c\"}, "
                + "{\"role\": \"assistant\", \"content\": \"d\"}]}\n");
        DatasetSpec s = spec();
        s.setFormat(DatasetFormat.MESSAGES);
        s.setSkipInvalidRecords(true);
        PreparedDataset d = DatasetPipeline.prepare(s, new TrainingSpec(), TestModels.tokenizer(TestModels.QWEN3), p, null,
                0, 1);
        assertThat(d.train()).hasSize(2);
        assertThat(d.report().skipped()).isEqualTo(2);
        assertThat(d.report().skippedExamples().get(0)).contains("mixed.jsonl:2").contains("alpaca data");
        assertThat(d.report().skippedExamples().get(1)).contains("mixed.jsonl:3").contains("field 'messages': is missing");
    }

    @Test
    void everyRecordSkippedSaysWhyTheFirstWasSkipped() throws IOException {
        Path p = write("alpaca.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"c\", \"output\": \"d\"}\n");
        DatasetSpec s = spec();
        s.setFormat(DatasetFormat.SHAREGPT);
        s.setSkipInvalidRecords(true);
        DatasetException e = failure(() -> DatasetPipeline.prepare(s, new TrainingSpec(),
                TestModels.tokenizer(TestModels.QWEN3), p, null, 0, 1));
        assertThat(e.problem()).contains("no training samples left").contains("2 skipped");
        assertThat(e.problem()).contains("first skipped: ").contains("alpaca.jsonl:1 (record 0)");
        assertThat(e.hint()).contains("dataset.format");
    }

    @Test
    void recordThatIsNotAnObject() throws IOException {
        Path p = write("a.json", "[\"just a string\"]");
        DatasetException e = failure(() -> RecordReader.read(p, null));
        assertThat(e.location().recordIndex()).isZero();
        assertThat(e.problem()).contains("a JSON string, expected a JSON object");
    }

    @Test
    void undetectableFormatListsTheFieldsSeen() throws IOException {
        DatasetException e = convert("x.jsonl", "{\"q\": \"x\", \"a\": \"y\"}");
        assertThat(e.problem()).contains("[q, a]");
        assertThat(e.hint()).contains("dataset.format");
    }

    @Test
    void unknownColumnsKey() {
        DatasetException e = failure(() -> new Formats(Map.of("question", "q"), null));
        assertThat(e.field()).isEqualTo("columns.question");
    }

    @Test
    void missingDatasetPath() {
        DatasetException e = failure(() -> RecordReader.files(dir.resolve("nope.jsonl")));
        assertThat(e.problem()).contains("does not exist");
    }

    static DatasetSpec spec() {
        DatasetSpec s = new DatasetSpec();
        s.setTemplate("chatml");
        s.setEvalSplit(0.0);
        s.setMaxSeqLength(16);
        return s;
    }

    @Test
    void overLongSampleWithTruncationOffNamesTheSample() throws IOException {
        Path p = write("long.jsonl", "{\"instruction\": \"hi\", \"output\": \"short\"}\n"
                + "{\"instruction\": \"" + "many words ".repeat(20) + "\", \"output\": \"y\"}\n");
        DatasetSpec s = spec();
        s.setTruncation(false);
        DatasetException e = failure(() -> DatasetPipeline.prepare(s, new TrainingSpec(),
                TestModels.tokenizer(TestModels.QWEN3), p, null, 0, 1));
        assertThat(e.location().line()).isEqualTo(2);
        assertThat(e.problem()).contains("longer than dataset.maxSeqLength 16");
        assertThat(e.hint()).contains("truncation");
    }

    @Test
    void skipInvalidRecordsCountsInsteadOfFailing() throws IOException {
        Path p = write("mixed.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                + "{\"instruction\": \"a\"}\n"
                + "not json\n"
                + "{\"instruction\": \"a\", \"output\": \"\"}\n"
                + "{\"instruction\": \"c\", \"output\": \"d\"}\n");
        DatasetSpec s = spec();
        s.setSkipInvalidRecords(true);
        PreparedDataset d = DatasetPipeline.prepare(s, new TrainingSpec(), TestModels.tokenizer(TestModels.QWEN3), p, null,
                0, 1);
        assertThat(d.train()).hasSize(2);
        assertThat(d.report().skipped()).isEqualTo(3);
        assertThat(d.report().skippedExamples()).hasSize(3);
        assertThat(d.report().skippedExamples().get(0)).contains("mixed.jsonl:3:");
        assertThat(d.report().skippedExamples().get(1)).contains("mixed.jsonl:2").contains("output");
    }

    static PreparedDataset prepareWithTokenizerOf(Path model, DatasetSpec s, Path data) {
        try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
            return DatasetPipeline.prepare(s, new TrainingSpec(), tokenizer, data, null, 0, 1);
        }
    }

    /**
     * A model directory with {@code testModel}'s tokenizer.json and the given tokenizer_config.json, and a spec with
     * {@code template: model} over one alpaca record.
     */
    record ModelTemplateCase(Path model, DatasetSpec spec, Path data) {
        PreparedDataset prepare() {
            return prepareWithTokenizerOf(model, spec, data);
        }
    }

    ModelTemplateCase modelTemplateCase(Path model, String testModel, String tokenizerConfig) throws IOException {
        Files.copy(TestModels.dir(testModel).resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.writeString(model.resolve("tokenizer_config.json"), tokenizerConfig);
        Path p = write("a.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n");
        DatasetSpec s = spec();
        s.setTemplate("model");
        return new ModelTemplateCase(model, s, p);
    }

    @Test
    void modelWithoutChatTemplateFallsBackToTheTemplateItsTokensWereMadeFor(@TempDir Path model) throws IOException {
        PreparedDataset d = modelTemplateCase(model, TestModels.QWEN3, "{\"eos_token\": \"<|im_end|>\"}").prepare();
        assertThat(d.report().template()).isEqualTo("chatml (fallback: the model has no chat_template)");
        assertThat(d.report().sample().overlay()).endsWith("⟦b<|im_end|>⟧\n");
    }

    @Test
    void llamaVocabularyFallsBackToTheLlama3Template(@TempDir Path model) throws IOException {
        // a base Llama-3: no chat_template; eos is <|end_of_text|>, but <|eot_id|> is a known end-of-turn token
        PreparedDataset d = modelTemplateCase(model, TestModels.LLAMA3, "{\"bos_token\": \"<|begin_of_text|>\", "
                + "\"eos_token\": \"<|end_of_text|>\"}").prepare();
        assertThat(d.report().template()).startsWith("llama3 (fallback");
        assertThat(d.report().sample().overlay()).endsWith("⟦b<|eot_id|>⟧");
    }

    @Test
    void baseModelWithoutBosTokenTrainsWithTheAlpacaFallback(@TempDir Path model) throws IOException {
        // no chat_template, no bos_token, a vocabulary without chatml or llama3 tokens: the alpaca fallback
        ModelTemplateCase c = modelTemplateCase(model, TestModels.GEMMA3, "{\"eos_token\": \"<eos>\"}");
        c.spec().setMaxSeqLength(64);
        PreparedDataset d = c.prepare();
        assertThat(d.report().template()).startsWith("alpaca (fallback");
        assertThat(d.report().sample().overlay()).startsWith("Below is an instruction").contains("⟦b<eos>⟧");
    }

    @Test
    void templateNeedingATokenTheModelLacksNamesTheModelFileAndKey(@TempDir Path model) throws IOException {
        ModelTemplateCase c = modelTemplateCase(model, TestModels.QWEN3, "{\"eos_token\": \"<|im_end|>\", \"chat_template\": "
                + "\"{{ bos_token + messages[0]['content'] }}{% for m in messages[1:] %}{{ m['content'] + eos_token }}{% endfor %}\"}");
        c.spec().setSkipInvalidRecords(true);
        DatasetException e = failure(c::prepare);
        assertThat(e.location().file()).isEqualTo(model.resolve("tokenizer_config.json").toString());
        assertThat(e.location().recordIndex()).isEqualTo(-1);
        assertThat(e.field()).isEqualTo("bos_token");
        assertThat(e.problem()).contains("fails on every conversation").contains("'bos_token' is undefined");
        assertThat(e.hint()).contains("add \"bos_token\" to").contains("dataset.template").doesNotContain("skipInvalidRecords");
    }

    @Test
    void unknownNamedTemplate() throws IOException {
        Path p = write("a.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n");
        DatasetSpec s = spec();
        s.setTemplate("vicuna");
        DatasetException e = failure(() -> DatasetPipeline.prepare(s, new TrainingSpec(),
                TestModels.tokenizer(TestModels.QWEN3), p, null, 0, 1));
        assertThat(e.field()).isEqualTo("dataset.template");
        assertThat(e.problem()).contains("vicuna").contains("chatml");
    }
}
