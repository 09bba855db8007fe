package dev.finetune.trainer.data;

import dev.finetune.api.v1alpha1.Curriculum;
import dev.finetune.api.v1alpha1.DataSelection;
import dev.finetune.api.v1alpha1.DatasetFormat;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.SelectionKey;
import dev.finetune.api.v1alpha1.TrainingMethod;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.jinja.JinjaException;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.batch.PackingChoice;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.curriculum.CurriculumPlanner;
import dev.finetune.trainer.data.curriculum.Selection;
import dev.finetune.trainer.data.curriculum.StagePlan;
import dev.finetune.trainer.data.format.Conversation;
import dev.finetune.trainer.data.format.Formats;
import dev.finetune.trainer.data.format.RawRecord;
import dev.finetune.trainer.data.format.RecordReader;
import dev.finetune.trainer.data.label.ConversationEncoder;
import dev.finetune.trainer.data.label.EncodedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.data.report.DatasetReport;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.template.TemplateCheck;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.data.tokenize.SpecialTokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * From dataset files to token ids, labels, stages and a report.
 *
 * <pre>
 * PreparedDataset data = DatasetPipeline.prepare(spec.getDataset(), spec.getTraining(), tokenizer,
 *         datasetPath, evalPath, rank, worldSize);
 * System.out.println(DatasetReportRenderer.render(data.report()));
 * BatchSource train = data.trainBatches();   // every stage in turn, data.totalEpochs() epochs; same count on every rank
 * for (Batch b : data.evalBatches()) { ... }  // sum NLL and b.labelTokens(), all-reduce
 * </pre>
 *
 * Steps: read records (JSON/JSONL, file or directory) → convert each by its format (declared, or detected per
 * file) → render with the chat template and mask labels ({@link ConversationEncoder}) → truncate or refuse
 * over-long samples → selection → eval split (seeded) or eval file → curriculum stages. Invalid records fail
 * with a {@link DatasetException} naming file, line and field, or are skipped and counted with
 * {@code skipInvalidRecords}. Deterministic for a given seed; independent of rank.
 */
public final class DatasetPipeline {

    private static final int PARALLEL_THRESHOLD = 256;
    private static final int SKIPPED_EXAMPLES = 5;

    private DatasetPipeline() {
    }

    /**
     * @param dataset     the dataset spec (format, template, lengths, masking, selection, ...)
     * @param training    seed, batch size and curriculum are read from it; null means defaults
     * @param datasetPath the training file or directory, resolved on this machine
     * @param evalPath    a separate eval file or directory, or null (then dataset.evalSplit applies)
     */
    public static PreparedDataset prepare(DatasetSpec dataset, TrainingSpec training, ModelTokenizer tokenizer,
            Path datasetPath, Path evalPath, int rank, int worldSize) {
        TrainingSpec t = training != null ? training : new TrainingSpec();
        Curriculum curriculum = t.getCurriculum();
        DataSelection selection = dataset.getSelection();
        List<String> scoreFields = new ArrayList<>();
        if (selection != null && selection.getTopN() != null && selection.getBy() == SelectionKey.SCORE) {
            scoreFields.add(selection.getScoreField());
        }
        if (curriculum != null && curriculum.getBy() == SelectionKey.SCORE) {
            scoreFields.add(curriculum.getScoreField());
        }
        Formats formats = new Formats(dataset.getColumns(), scoreFields);
        ChatTemplate template = resolveTemplate(dataset.getTemplate(), tokenizer);
        ConversationEncoder encoder = new ConversationEncoder(template, tokenizer, dataset.getTrainOn(),
                dataset.getEnableThinking(), dataset.getSystemPrompt());
        TemplateCheck.renderProbe(template, tokenizer.directory(), tokenizer.specialTokens().templateVariables(),
                dataset.getEnableThinking() == null ? Map.of() : Map.of("enable_thinking", dataset.getEnableThinking()));

        boolean preference = t.getMethod() != null && t.getMethod() != TrainingMethod.SFT;
        if (evalPath != null) {
            requireEvalApart(datasetPath, evalPath);
        }
        Loaded main = load(datasetPath, dataset, preference, formats, encoder, tokenizer);
        Selection.Result selected = Selection.apply(main.samples, selection);

        List<TokenizedSample> train;
        List<TokenizedSample> eval;
        String evalSource;
        Loaded evalLoaded = null;
        if (evalPath != null) {
            evalLoaded = load(evalPath, dataset, preference, formats, encoder, tokenizer);
            train = selected.kept();
            eval = evalLoaded.samples;
            evalSource = "file " + evalPath;
        } else {
            double ratio = dataset.effectiveEvalSplit();
            List<List<TokenizedSample>> split = split(selected.kept(), ratio, t.getSeed());
            train = split.get(0);
            eval = split.get(1);
            evalSource = ratio > 0 ? "split " + java.math.BigDecimal.valueOf(ratio).stripTrailingZeros().toPlainString()
                    + " of the dataset, seed " + t.getSeed() : "none";
        }
        if (train.isEmpty()) {
            throw new DatasetException(SourceLocation.ofFile(datasetPath.toString()), null,
                    "no training samples left (" + main.recordsRead + " records read, " + main.skipped + " skipped, "
                            + main.droppedNoLabels + " without learned tokens, selection kept " + selected.kept().size() + ")"
                            + (main.skippedExamples.isEmpty() ? "" : "; first skipped: " + main.skippedExamples.getFirst()),
                    "check the dataset path, dataset.format and dataset.selection");
        }
        List<StagePlan> stages = CurriculumPlanner.plan(train, curriculum, t.effectiveEpochs());
        SpecialTokens special = tokenizer.specialTokens();
        Batcher.Options unpacked = new Batcher.Options(t.getBatchSize(), special.padId(), dataset.getMaxSeqLength(),
                false, dataset.isGroupByLength(), t.getSeed(), rank, worldSize);
        PackingChoice packing = PackingChoice.decide(dataset.getPacking(), train, unpacked,
                t.getGradientAccumulationSteps(), preference);
        Batcher.Options options = unpacked.withPacking(packing.packed());
        DatasetReport report = report(dataset, datasetPath, main, selected, train, eval, evalSource, stages, template,
                tokenizer, options, packing);
        return new PreparedDataset(List.copyOf(train), List.copyOf(eval), stages, report, special, options, preference);
    }

    /**
     * Eval records must not be training records: an eval file inside the training directory (data/ holding
     * train.jsonl and eval.jsonl, dataset.pvc.path data) or the training file itself would be trained on, and the eval
     * loss, the perplexity and the choice of the best adapter would measure memorised records.
     */
    static void requireEvalApart(Path datasetPath, Path evalPath) {
        Set<Path> training = new HashSet<>();
        for (Path f : RecordReader.files(datasetPath)) {
            training.add(real(f));
        }
        for (Path f : RecordReader.files(evalPath)) {
            if (training.contains(real(f))) {
                boolean inDirectory = Files.isDirectory(datasetPath);
                throw new DatasetException(SourceLocation.ofFile(f.toString()), "dataset.evalPath",
                        "is also training data: " + (inDirectory ? "it is in the training directory " + datasetPath
                                : "it is the training file") + ", so the eval loss would measure records the model trained on",
                        inDirectory ? "point dataset.pvc.path at the training file alone (e.g. " + datasetPath.getFileName()
                                + "/train.jsonl), or move the eval file out of that directory"
                                : "give a separate eval file, or use dataset.evalSplit to hold out part of the dataset");
            }
        }
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    /**
     * The chat template training uses for {@code dataset.template} ("model" or null: the model's own, else the
     * fallback its vocabulary was made for; otherwise a named one). Use the same for generation after training,
     * so prompts look like the training data.
     */
    public static ChatTemplate resolveTemplate(String name, ModelTokenizer tokenizer) {
        if (name == null || name.equals("model")) {
            String source = tokenizer.chatTemplate().orElse(null);
            if (source == null) {
                return fallbackTemplate(tokenizer);
            }
            try {
                return ChatTemplate.of("model", tokenizer.chatTemplateFile().toString(), source);
            } catch (JinjaException e) {
                throw new DatasetException(SourceLocation.ofFile(tokenizer.chatTemplateFile().toString()), "chat_template",
                        "the model's chat template cannot be parsed: " + e.getMessage(),
                        "set dataset.template to a named template: " + ChatTemplate.NAMED.stream().sorted().toList());
            }
        }
        try {
            return ChatTemplate.named(name);
        } catch (IllegalArgumentException e) {
            throw new DatasetException(null, "dataset.template", e.getMessage(), "use model or one of the named templates");
        }
    }

    /**
     * A model without a chat template (typically a base model) gets the named template its vocabulary was made
     * for: chatml when it has {@code <|im_start|>}/{@code <|im_end|>} (Qwen), llama3 when it has
     * {@code <|start_header_id|>}/{@code <|eot_id|>}, else alpaca (plain text, turns end with eos). The report
     * says which; assistant turns must still end with one of the model's stop tokens.
     */
    static ChatTemplate fallbackTemplate(ModelTokenizer tokenizer) {
        String name;
        if (tokenizer.hasAddedToken("<|im_start|>") && tokenizer.hasAddedToken("<|im_end|>")) {
            name = "chatml";
        } else if (tokenizer.hasAddedToken("<|start_header_id|>") && tokenizer.hasAddedToken("<|eot_id|>")) {
            name = "llama3";
        } else {
            name = "alpaca";
        }
        ChatTemplate t = ChatTemplate.named(name);
        return new ChatTemplate(t.name(), "fallback: the model has no chat_template", t.compiled());
    }

    /** Samples read from one path, and what was dropped on the way. */
    static final class Loaded {
        final List<String> files = new ArrayList<>();
        final Map<String, Integer> formats = new LinkedHashMap<>();
        final List<TokenizedSample> samples = new ArrayList<>();
        final List<String> skippedExamples = new ArrayList<>();
        int recordsRead;
        int skipped;
        int droppedNoLabels;

        void skip(DatasetException e) {
            skipped++;
            if (skippedExamples.size() < SKIPPED_EXAMPLES) {
                skippedExamples.add(e.getMessage());
            }
        }
    }

    private record Outcome(TokenizedSample sample, DatasetException error) {
    }

    /** @param preference true for the preference methods (dpo, orpo): every sample needs its rejected reply. */
    static Loaded load(Path path, DatasetSpec spec, boolean preference, Formats formats, ConversationEncoder encoder,
            ModelTokenizer tokenizer) {
        Loaded loaded = new Loaded();
        boolean skip = spec.isSkipInvalidRecords();
        for (Path file : RecordReader.files(path)) {
            loaded.files.add(file.getFileName().toString());
            List<RawRecord> records = RecordReader.readFile(file, skip ? loaded::skip : null);
            loaded.recordsRead += records.size();
            if (records.isEmpty()) {
                continue;
            }
            DatasetFormat format = spec.getFormat() == null || spec.getFormat() == DatasetFormat.AUTO
                    ? detect(formats, records, skip) : spec.getFormat();
            loaded.formats.merge(format.name().toLowerCase(Locale.ROOT), records.size(), Integer::sum);
            IntStream indices = IntStream.range(0, records.size());
            if (records.size() >= PARALLEL_THRESHOLD) {
                indices = indices.parallel();
            }
            List<Outcome> outcomes = indices.mapToObj(k -> encodeOne(records.get(k), format, spec, preference, formats, encoder, tokenizer))
                    .flatMap(List::stream)
                    .toList();
            for (Outcome o : outcomes) {
                if (o.error != null) {
                    if (!skip) {
                        throw o.error;
                    }
                    loaded.skip(o.error);
                } else if (o.sample.labelTokenCount() == 0) {
                    loaded.droppedNoLabels++;
                } else {
                    loaded.samples.add(o.sample);
                }
            }
        }
        return loaded;
    }

    /** The format of a file: its first record's, or with skipping on, the first record whose format is recognisable. */
    private static DatasetFormat detect(Formats formats, List<RawRecord> records, boolean skip) {
        DatasetException first = null;
        for (RawRecord r : records) {
            try {
                return formats.detect(r);
            } catch (DatasetException e) {
                if (!skip) {
                    throw e;
                }
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    /** The samples of one record: one, or with dataset.splitTurns one per assistant turn; or the record's error. */
    private static List<Outcome> encodeOne(RawRecord raw, DatasetFormat format, DatasetSpec spec, boolean preference,
            Formats formats, ConversationEncoder encoder, ModelTokenizer tokenizer) {
        try {
            Conversation c = formats.convert(format, raw);
            List<EncodedSample> turns = spec.isSplitTurns() ? encoder.encodeEachAssistantTurn(c) : List.of(encoder.encode(c));
            EncodedSample rejected = c.isText() ? null : encoder.encodeRejected(c);
            if (preference && rejected == null) {
                throw new DatasetException(raw.location(), null, "training.method dpo and orpo train on preference pairs, and this record "
                        + "has no rejected reply (format " + format.name().toLowerCase(Locale.ROOT) + ")",
                        "give every record prompt, chosen and rejected fields (dataset.format: preference), set "
                                + "dataset.skipInvalidRecords: true to drop such records, or use training.method: sft");
            }
            List<Outcome> outcomes = new ArrayList<>();
            // A preference record's rejected reply replaces its last assistant turn, so it goes with the last sample;
            // the preference methods train on that pair only.
            for (int k = preference ? turns.size() - 1 : 0; k < turns.size(); k++) {
                outcomes.add(new Outcome(sample(raw, c, spec, preference, turns.get(k),
                        k == turns.size() - 1 ? rejected : null), null));
            }
            return outcomes;
        } catch (DatasetException e) {
            return List.of(new Outcome(null, e));
        }
    }

    /** The rejected reply counts toward the length limit only for the preference methods, which train on it. */
    private static TokenizedSample sample(RawRecord raw, Conversation c, DatasetSpec spec, boolean preference,
            EncodedSample chosen, EncodedSample rejected) {
        int max = spec.getMaxSeqLength();
        int length = chosen.length();
        if (!spec.isTruncation()) {
            int longest = Math.max(length, !preference || rejected == null ? 0 : rejected.length());
            if (longest > max) {
                throw new DatasetException(raw.location(), null, "sample is " + longest
                        + " tokens after the chat template, longer than dataset.maxSeqLength " + max,
                        "raise dataset.maxSeqLength, shorten the record, set dataset.truncation: true, or "
                                + "dataset.skipInvalidRecords: true to drop such records");
            }
        }
        return new TokenizedSample(cut(chosen.inputIds(), max), cut(chosen.labels(), max), raw.location(),
                length, c.scores(), rejected == null ? null : cut(rejected.inputIds(), max),
                rejected == null ? null : cut(rejected.labels(), max));
    }

    private static int[] cut(int[] a, int max) {
        return a.length <= max ? a : Arrays.copyOf(a, max);
    }

    /** Seeded split: eval gets round(ratio × n) samples (at least 1 when ratio > 0 and n ≥ 2); both keep record order. */
    static List<List<TokenizedSample>> split(List<TokenizedSample> all, double ratio, long seed) {
        int n = all.size();
        int evalCount = (int) Math.round(ratio * n);
        if (ratio > 0 && n >= 2) {
            evalCount = Math.max(1, Math.min(n - 1, evalCount));
        } else {
            evalCount = 0;
        }
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            order.add(k);
        }
        Collections.shuffle(order, new Random(seed));
        boolean[] isEval = new boolean[n];
        for (int k = 0; k < evalCount; k++) {
            isEval[order.get(k)] = true;
        }
        List<TokenizedSample> train = new ArrayList<>();
        List<TokenizedSample> eval = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            (isEval[k] ? eval : train).add(all.get(k));
        }
        return List.of(train, eval);
    }

    private static DatasetReport report(DatasetSpec spec, Path datasetPath, Loaded main, Selection.Result selected,
            List<TokenizedSample> train, List<TokenizedSample> eval, String evalSource, List<StagePlan> stages,
            ChatTemplate template, ModelTokenizer tokenizer, Batcher.Options options, PackingChoice choice) {
        int max = spec.getMaxSeqLength();
        int[] lengths = train.stream().mapToInt(TokenizedSample::originalLength).sorted().toArray();
        long total = 0;
        long learned = 0;
        int truncated = 0;
        for (TokenizedSample s : train) {
            total += s.length();
            learned += s.labelTokenCount();
            truncated += s.truncated() ? 1 : 0;
        }
        DatasetReport.LengthStats stats = new DatasetReport.LengthStats(lengths[0],
                Arrays.stream(lengths).average().orElse(0), lengths[(lengths.length - 1) / 2],
                lengths[(int) Math.ceil(0.95 * lengths.length) - 1], lengths[lengths.length - 1]);
        List<DatasetReport.Bucket> histogram = new ArrayList<>();
        int width = Math.max(1, (max + 7) / 8);
        for (int from = 0; from <= max; from += width) {
            int to = from + 2 * width > max + 1 ? max + 1 : from + width;
            int f = from;
            histogram.add(new DatasetReport.Bucket(from, to, (int) Arrays.stream(lengths).filter(x -> x >= f && x < to).count()));
            if (to == max + 1) {
                break;
            }
        }
        histogram.add(new DatasetReport.Bucket(max + 1, Integer.MAX_VALUE,
                (int) Arrays.stream(lengths).filter(x -> x > max).count()));
        int rows = choice.packed() ? new Batcher(train, options).rowCount() : train.size();
        DatasetReport.Packing packing = new DatasetReport.Packing(choice.packed(), choice.reason(), rows,
                choice.packed() && rows > 0 ? (double) total / ((long) rows * max) : 0);
        Map<String, Integer> sel = new LinkedHashMap<>();
        sel.put("duplicates", selected.duplicates());
        sel.put("tooShort", selected.tooShort());
        sel.put("tooLong", selected.tooLong());
        sel.put("belowTopN", selected.belowTopN());
        SpecialTokens st = tokenizer.specialTokens();
        Map<String, String> special = new LinkedHashMap<>();
        special.put("bos", st.bos() == null ? "none" : st.bos() + " (" + st.bosId() + ")");
        special.put("eos", st.eos() + " (" + st.eosId() + ")");
        special.put("pad", tokenizer.decode(new int[] {st.padId()}) + " (" + st.padId() + ")");
        special.put("stop", String.join(" ", tokenizer.stopTokenTexts()));
        List<DatasetReport.Stage> stageSummaries = stages.stream().map(s -> new DatasetReport.Stage(s.name(), s.upTo(),
                s.epochs(), s.learningRate(), s.samples().size())).toList();
        TokenizedSample first = train.getFirst();
        DatasetReport.MaskedSample sample = new DatasetReport.MaskedSample(first.source().toString(),
                overlay(tokenizer, first.inputIds(), first.labels()), first.length(), first.labelTokenCount());
        String templateText = template == null ? "none (plain text)" : template.name() + " (" + template.origin() + ")";
        return new DatasetReport(datasetPath.toString(), main.files, main.formats, templateText,
                yamlName(spec.getTrainOn()), special, main.recordsRead, main.skipped, main.skippedExamples, sel,
                main.droppedNoLabels, train.size(), eval.size(), evalSource, max, truncated, stats, histogram, total,
                learned, packing, stageSummaries, sample);
    }

    /** An enum constant as the YAML spells it: ALL_ASSISTANT_TURNS → allAssistantTurns. */
    static String yamlName(Enum<?> e) {
        if (e == null) {
            return "default";
        }
        StringBuilder sb = new StringBuilder();
        boolean upper = false;
        for (char c : e.name().toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return sb.toString();
    }

    /** The sample's text with learned runs between ⟦ and ⟧. */
    public static String overlay(ModelTokenizer tokenizer, int[] ids, int[] labels) {
        StringBuilder sb = new StringBuilder();
        int k = 0;
        while (k < ids.length) {
            boolean learned = labels[k] != Labels.IGNORE;
            int s = k;
            while (k < ids.length && (labels[k] != Labels.IGNORE) == learned) {
                k++;
            }
            String text = tokenizer.decode(Arrays.copyOfRange(ids, s, k));
            sb.append(learned ? "⟦" + text + "⟧" : text);
        }
        return sb.toString();
    }
}
