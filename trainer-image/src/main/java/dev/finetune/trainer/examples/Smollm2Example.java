package dev.finetune.trainer.examples;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.cli.FinetuneCli;
import dev.finetune.trainer.data.DatasetPipeline;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.generate.TextGenerator;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * examples/smollm2: a real pretrained model (SmolLM2-135M-Instruct, imported from GGUF) fine-tuned on
 * {@link BookingTask} with the example's FineTuneJob, measured before and after on held-out records.
 *
 * <ol>
 *   <li>writes {@code train.jsonl}, {@code eval.jsonl} (the job's evalPath) and {@code test.jsonl} (never trained
 *       on) under the data volume's {@code smollm2/};
 *   <li>baseline: the pretrained model's eval loss (the trainer's own token-weighted evaluation, with an adapter
 *       whose B = 0) and its answers on the test records: exact match and fields right;
 *   <li>{@code finetune run JOB.yaml} (report.html, manifest.json with the per-epoch eval loss and perplexity);
 *   <li>the same test records with the trained adapter; {@code task-report.json} / {@code task-report.md} beside
 *       the run's outputs, and the same figures under {@code taskEvaluation} in manifest.json.
 * </ol>
 */
public final class Smollm2Example {

    public record Sizes(int train, int eval, int test) {}

    /** A test record's answers before and after training. */
    public record Sample(String request, String expected, String before, String after) {}

    public record Result(double baselineEvalLoss, double finalEvalLoss, double exactBefore, double exactAfter,
            double fieldsBefore, double fieldsAfter, List<Sample> samples, Path outputDir, double seconds) {}

    static final int MAX_NEW_TOKENS = 40;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Smollm2Example() {}

    /** {@code JOB.yaml --models DIR --data DIR --outputs DIR [--train N --eval N --test N]}. */
    public static void main(String[] args) throws IOException {
        Path job = null;
        Path models = null;
        Path data = null;
        Path outputs = null;
        int train = 200;
        int eval = 20;
        int test = 24;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> models = Path.of(args[++i]);
                case "--data" -> data = Path.of(args[++i]);
                case "--outputs" -> outputs = Path.of(args[++i]);
                case "--train" -> train = Integer.parseInt(args[++i]);
                case "--eval" -> eval = Integer.parseInt(args[++i]);
                case "--test" -> test = Integer.parseInt(args[++i]);
                default -> job = Path.of(args[i]);
            }
        }
        if (job == null || models == null || data == null || outputs == null) {
            System.err.println("usage: Smollm2Example JOB.yaml --models DIR --data DIR --outputs DIR [--train N --eval N --test N]");
            System.exit(64);
        }
        Result r = run(job, models, data, outputs, new Sizes(train, eval, test), System.out);
        System.exit(r.exactAfter() > r.exactBefore() ? 0 : 1);
    }

    public static Result run(Path job, Path models, Path data, Path outputs, Sizes sizes, PrintStream out) throws IOException {
        long start = System.nanoTime();
        FineTuneJobSpec spec = TrainerJson.yaml().readValue(job.toFile(), FineTuneJob.class).getSpec();
        Path model = models.resolve(spec.getModel().getPvc().getPath());
        Path trainFile = data.resolve(spec.getDataset().getPvc().getPath());
        Path evalFile = data.resolve(spec.getDataset().getEvalPath());
        Path outputDir = outputs.resolve(spec.getOutput().getPvc().getPath());
        List<BookingTask.Booking> all = BookingTask.generate(sizes.train() + sizes.eval() + sizes.test(), 2026);
        BookingTask.writeJsonl(all.subList(0, sizes.train()), trainFile);
        BookingTask.writeJsonl(all.subList(sizes.train(), sizes.train() + sizes.eval()), evalFile);
        List<BookingTask.Booking> test = all.subList(sizes.train() + sizes.eval(), all.size());
        BookingTask.writeJsonl(test, trainFile.resolveSibling("test.jsonl"));
        out.printf(Locale.ROOT, "== data: %d train, %d eval, %d held-out test records in %s%n", sizes.train(), sizes.eval(),
                sizes.test(), trainFile.getParent());

        double baseline;
        List<String> before;
        try (ModelTokenizer tokenizer = ModelTokenizer.load(model);
                NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel base = DecoderModel.load(model, DataType.FLOAT32, manager, kernels)) {
            PreparedDataset prepared = DatasetPipeline.prepare(spec.getDataset(), spec.getTraining(), tokenizer, trainFile,
                    evalFile, 0, 1);
            try (LoraModel fresh = LoraModel.attach(base, LoraSettings.of(spec.getLora()), spec.getTraining().getSeed())) {
                baseline = new Trainer(fresh, TrainingSettings.of(spec.getTraining(), prepared.totalEpochs()),
                        prepared.trainBatches(), prepared.evalBatches(), List.of(), Trainer.Options.defaults()).evaluate();
            }
            out.printf(Locale.ROOT, "== baseline (pretrained): eval loss %.4f, perplexity %.2f%n", baseline, Math.exp(baseline));
            before = answers(base, tokenizer, test);
        }
        Score scoreBefore = score(test, before);
        out.printf(Locale.ROOT, "== baseline task metric on %d held-out records: exact match %.1f%%, fields right %.1f%%%n",
                test.size(), 100 * scoreBefore.exact(), 100 * scoreBefore.fields());

        int code = FinetuneCli.commandLine().execute("run", job.toString(), "--resume", "none",
                "--volume", spec.getModel().getPvc().getClaimName() + "=" + models,
                "--volume", spec.getDataset().getPvc().getClaimName() + "=" + data,
                "--volume", spec.getOutput().getPvc().getClaimName() + "=" + outputs);
        if (code != 0) {
            throw new IllegalStateException("finetune run " + job + " exited " + code);
        }

        List<String> after;
        try (ModelTokenizer tokenizer = ModelTokenizer.load(model);
                NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel base = DecoderModel.load(model, DataType.FLOAT32, manager, kernels);
                LoraModel trained = PeftAdapter.attach(base, outputDir.resolve("adapter"))) {
            after = answers(trained.base(), tokenizer, test);
        }
        Score scoreAfter = score(test, after);
        Path manifestFile = outputDir.resolve("manifest.json");
        ObjectNode manifest = (ObjectNode) JSON.readTree(manifestFile.toFile());
        JsonNode history = manifest.path("history");
        double finalEval = history.get(history.size() - 1).path("evalLoss").asDouble();
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            samples.add(new Sample(test.get(i).request(), test.get(i).answer(), before.get(i), after.get(i)));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Result result = new Result(baseline, finalEval, scoreBefore.exact(), scoreAfter.exact(), scoreBefore.fields(),
                scoreAfter.fields(), samples, outputDir, seconds);
        ObjectNode report = report(result, history, sizes);
        manifest.set("taskEvaluation", report);
        JSON.writeValue(manifestFile.toFile(), manifest);
        JSON.writeValue(outputDir.resolve("task-report.json").toFile(), report);
        Files.writeString(outputDir.resolve("task-report.md"), markdown(result, history));
        out.printf(Locale.ROOT, "== after fine-tuning: eval loss %.4f (baseline %.4f); exact match %.1f%% (was %.1f%%), "
                        + "fields right %.1f%% (was %.1f%%); %.0f s in all%n", finalEval, baseline, 100 * scoreAfter.exact(),
                100 * scoreBefore.exact(), 100 * scoreAfter.fields(), 100 * scoreBefore.fields(), seconds);
        out.println("== report: " + outputDir.resolve("task-report.md") + " and " + outputDir.resolve("report.html"));
        return result;
    }

    record Score(double exact, double fields) {}

    static Score score(List<BookingTask.Booking> test, List<String> answers) {
        int exact = 0;
        int fields = 0;
        for (int i = 0; i < test.size(); i++) {
            BookingTask.Score s = BookingTask.score(test.get(i), answers.get(i));
            exact += s.exact() ? 1 : 0;
            fields += s.fieldsRight();
        }
        return new Score((double) exact / test.size(), (double) fields / (test.size() * BookingTask.KEYS.length));
    }

    /** Greedy answers of {@code model} (with whatever adapter is attached) to the test requests, through the chat template. */
    static List<String> answers(DecoderModel model, ModelTokenizer tokenizer, List<BookingTask.Booking> test) {
        ChatTemplate template = ChatTemplate.of("model", tokenizer.directory().resolve("tokenizer_config.json").toString(),
                tokenizer.chatTemplate().orElseThrow());
        TextGenerator generator = new TextGenerator(model, tokenizer);
        List<String> out = new ArrayList<>();
        for (BookingTask.Booking b : test) {
            String prompt = template.render(List.of(Message.system(BookingTask.SYSTEM),
                            Message.user(BookingTask.INSTRUCTION + b.request())), true,
                    tokenizer.specialTokens().templateVariables(), Map.of());
            out.add(generator.continuation(prompt, Generator.Options.greedy(MAX_NEW_TOKENS)));
        }
        return out;
    }

    static ObjectNode report(Result r, JsonNode history, Sizes sizes) {
        ObjectNode o = JSON.createObjectNode();
        o.put("task", "booking request -> one line of house-style JSON (examples/smollm2)");
        o.put("trainRecords", sizes.train());
        o.put("evalRecords", sizes.eval());
        o.put("testRecords", sizes.test());
        o.put("baselineEvalLoss", r.baselineEvalLoss());
        o.put("baselinePerplexity", Math.exp(r.baselineEvalLoss()));
        o.put("finalEvalLoss", r.finalEvalLoss());
        o.put("finalPerplexity", Math.exp(r.finalEvalLoss()));
        ArrayNode epochs = o.putArray("epochs");
        for (JsonNode h : history) {
            epochs.addObject().put("epoch", h.path("epoch").asInt()).put("step", h.path("step").asLong())
                    .put("evalLoss", h.path("evalLoss").asDouble()).put("perplexity", h.path("perplexity").asDouble());
        }
        o.put("exactMatchBefore", r.exactBefore());
        o.put("exactMatchAfter", r.exactAfter());
        o.put("fieldsRightBefore", r.fieldsBefore());
        o.put("fieldsRightAfter", r.fieldsAfter());
        ArrayNode samples = o.putArray("samples");
        for (Sample s : r.samples().subList(0, Math.min(5, r.samples().size()))) {
            samples.addObject().put("request", s.request()).put("expected", s.expected()).put("before", s.before())
                    .put("after", s.after());
        }
        o.put("seconds", r.seconds());
        return o;
    }

    static String markdown(Result r, JsonNode history) {
        StringBuilder md = new StringBuilder("# SmolLM2-135M-Instruct on the booking task\n\n");
        md.append(String.format(Locale.ROOT, "| | before | after |%n|---|---|---|%n| eval loss | %.4f | %.4f |%n"
                        + "| perplexity | %.2f | %.2f |%n| exact match (held-out) | %.1f%% | %.1f%% |%n"
                        + "| fields right (held-out) | %.1f%% | %.1f%% |%n%n", r.baselineEvalLoss(), r.finalEvalLoss(),
                Math.exp(r.baselineEvalLoss()), Math.exp(r.finalEvalLoss()), 100 * r.exactBefore(), 100 * r.exactAfter(),
                100 * r.fieldsBefore(), 100 * r.fieldsAfter()));
        md.append("| epoch | step | eval loss | perplexity |\n|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| 0 (pretrained) | 0 | %.4f | %.2f |%n", r.baselineEvalLoss(),
                Math.exp(r.baselineEvalLoss())));
        for (JsonNode h : history) {
            md.append(String.format(Locale.ROOT, "| %d | %d | %.4f | %.2f |%n", h.path("epoch").asInt(), h.path("step").asLong(),
                    h.path("evalLoss").asDouble(), h.path("perplexity").asDouble()));
        }
        md.append("\n## Samples (held-out)\n");
        for (Sample s : r.samples().subList(0, Math.min(5, r.samples().size()))) {
            md.append("\n**request:** ").append(s.request()).append("\n\n- expected: `").append(s.expected())
                    .append("`\n- before: `").append(s.before().strip().replace("\n", " ")).append("`\n- after: `")
                    .append(s.after().strip().replace("\n", " ")).append("`\n");
        }
        md.append(String.format(Locale.ROOT, "%n%.0f s in all (data, baseline, training, evaluation).%n", r.seconds()));
        return md.toString();
    }
}
