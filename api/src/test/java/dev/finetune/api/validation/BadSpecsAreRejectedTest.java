package dev.finetune.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.TrainerJson;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The table of mistakes users make, each rejected with a message that names the field and says what
 * to do. The same schema and rules run in the API server; the e2e suite replays this table there.
 */
class BadSpecsAreRejectedTest {

    private static final FineTuneJobValidator VALIDATOR = new FineTuneJobValidator();

    static final String VALID = """
            apiVersion: finetune.dev/v1alpha1
            kind: FineTuneJob
            metadata: {name: t}
            spec:
              model: {pvc: {claimName: models, path: Qwen3-0.6B}}
              dataset: {pvc: {claimName: data, path: train.jsonl}}
              output: {pvc: {claimName: outputs, path: runs/t}}
            """;

    static ObjectNode valid() {
        try {
            return (ObjectNode) TrainerJson.yaml().readTree(VALID);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static ObjectNode at(ObjectNode root, String dottedPath) {
        ObjectNode node = root;
        for (String part : dottedPath.split("\\.")) {
            node = node.has(part) ? (ObjectNode) node.get(part) : node.putObject(part);
        }
        return node;
    }

    private static Arguments bad(String why, Consumer<ObjectNode> mistake, String field, String message) {
        return Arguments.of(why, mistake, field, message);
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                bad("eval file outside the dataset volume", m -> at(m, "spec.dataset").put("evalPath", "data/../../etc/passwd"),
                        "spec.dataset", "dataset.evalPath must be relative to the dataset volume's root and must not contain '..'"),
                bad("eval split and eval file together", m -> at(m, "spec.dataset").put("evalSplit", 0.1).put("evalPath", "eval.jsonl"),
                        "spec.dataset", "set either dataset.evalSplit (hold out a fraction) or dataset.evalPath"),
                bad("warmup steps and ratio together", m -> at(m, "spec.training").put("warmupSteps", 10).put("warmupRatio", 0.1),
                        "spec.training", "set either training.warmupSteps or training.warmupRatio, not both"),
                bad("all-linear with named modules", m -> at(m, "spec.lora").putArray("targetModules").add("all-linear").add("q_proj"),
                        "spec.lora", "'all-linear' already covers every linear layer; list it alone"),
                bad("DoRA with trained biases", m -> at(m, "spec.lora").put("useDora", true).put("bias", "all"),
                        "spec.lora", "lora.useDora needs lora.bias: none"),
                bad("rank zero", m -> at(m, "spec.lora").put("rank", 0),
                        "spec.lora.rank", "should be greater than or equal to 1"),
                bad("dropout of one", m -> at(m, "spec.lora").put("dropout", 1.0),
                        "spec.lora.dropout", "should be less than 1"),
                bad("zero learning rate", m -> at(m, "spec.training").put("learningRate", 0),
                        "spec.training.learningRate", "should be greater than 0"),
                bad("unknown dataset format", m -> at(m, "spec.dataset").put("format", "csv"),
                        "spec.dataset.format", "Unsupported value: \"csv\": supported values: \"alpaca\""),
                bad("misspelt scheduler", m -> at(m, "spec.training").put("scheduler", "cosin"),
                        "spec.training.scheduler", "Unsupported value: \"cosin\""),
                bad("negative GPUs", m -> at(m, "spec.resources").put("gpus", -1),
                        "spec.resources.gpus", "should be greater than or equal to 0"),
                bad("no workers", m -> at(m, "spec.resources").put("workers", 0),
                        "spec.resources.workers", "should be greater than or equal to 1"),
                bad("memory in gigabytes written GB", m -> at(m, "spec.resources").put("memory", "4GB"),
                        "spec.resources.memory", "memory must be a positive Kubernetes quantity: a number with an optional suffix"),
                bad("cpu as a word", m -> at(m, "spec.resources").put("cpu", "two"),
                        "spec.resources.cpu", "cpu must be a positive Kubernetes quantity"),
                bad("negative cpu", m -> at(m, "spec.resources").put("cpu", -2),
                        "spec.resources.cpu", "cpu must be a positive Kubernetes quantity"),
                bad("shared memory with a lowercase suffix", m -> at(m, "spec.resources").put("sharedMemory", "8gi"),
                        "spec.resources.sharedMemory", "sharedMemory must be a positive Kubernetes quantity"),
                bad("fp16 on CPU", m -> {
                    at(m, "spec.training").put("precision", "fp16");
                    at(m, "spec.resources").put("gpus", 0);
                }, "spec", "training.precision fp16 needs GPUs; on CPU (resources.gpus: 0) use bf16 or fp32"),
                bad("absolute model path", m -> at(m, "spec.model.pvc").put("path", "/models/qwen"),
                        "spec.model.pvc.path", "path must be relative to the volume's root"),
                bad("output path escaping its volume", m -> at(m, "spec.output.pvc").put("path", "runs/../../etc"),
                        "spec.output.pvc.path", "must not contain '..'"),
                bad("a tab pasted into a volume path", m -> at(m, "spec.dataset.pvc").put("path", "train\t.jsonl"),
                        "spec.dataset.pvc.path", "path must not contain control characters"),
                bad("a newline in the eval file's name", m -> at(m, "spec.dataset").put("evalPath", "eval.jsonl\n"),
                        "spec.dataset", "dataset.evalPath must not contain control characters"),
                bad("no model", m -> ((ObjectNode) m.get("spec")).remove("model"),
                        "spec.model", "Required value"),
                bad("output without a claim", m -> at(m, "spec.output.pvc").remove("claimName"),
                        "spec.output.pvc.claimName", "Required value"),
                bad("job name with capitals and an underscore", m -> at(m, "metadata").put("name", "Quick_Start"),
                        "metadata.name", "Invalid value: \"Quick_Start\": a lowercase RFC 1123 subdomain must consist of lower "
                                + "case alphanumeric characters, '-' or '.'"),
                bad("claim name that is not a DNS name", m -> at(m, "spec.dataset.pvc").put("claimName", "My_Data"),
                        "spec.dataset.pvc.claimName", "should match"),
                bad("epochs and a curriculum", m -> {
                    at(m, "spec.training").put("epochs", 3);
                    at(m, "spec.training.curriculum").putArray("stages").addObject().put("name", "all").put("upTo", 1.0);
                }, "spec.training", "training.epochs cannot be combined with training.curriculum"),
                bad("curriculum that never reaches all the data", m -> at(m, "spec.training.curriculum").putArray("stages")
                                .addObject().put("name", "easy").put("upTo", 0.5),
                        "spec.training.curriculum", "the last curriculum stage must have upTo: 1"),
                bad("early stopping without eval data", m -> {
                    at(m, "spec.dataset").put("evalSplit", 0);
                    at(m, "spec.training.earlyStopping").put("patience", 2);
                }, "spec", "training.earlyStopping needs evaluation data"),
                bad("misspelt field", m -> at(m, "spec.lora").put("rnak", 16),
                        "spec.lora.rnak", "field not declared in schema"),
                bad("batch size as words", m -> at(m, "spec.training").put("batchSize", "four"),
                        "spec.training.batchSize", "must be of type integer"),
                bad("sequence length too short to hold a prompt", m -> at(m, "spec.dataset").put("maxSeqLength", 8),
                        "spec.dataset.maxSeqLength", "should be greater than or equal to 16"),
                bad("selection bounds reversed", m -> at(m, "spec.dataset.selection").put("minTokens", 500).put("maxTokens", 100),
                        "spec.dataset.selection", "selection.minTokens must not exceed selection.maxTokens"),
                bad("no target modules", m -> at(m, "spec.lora").putArray("targetModules"),
                        "spec.lora.targetModules", "should have at least 1 items"),
                bad("keeping no checkpoint", m -> at(m, "spec.output").put("keepCheckpoints", 0),
                        "spec.output.keepCheckpoints", "should be greater than or equal to 1"),
                bad("split turns while training on prompt and completion", m -> at(m, "spec.dataset").put("splitTurns", true)
                                .put("trainOn", "promptAndCompletion"),
                        "spec.dataset", "dataset.splitTurns makes one sample per assistant turn"),
                bad("template name with spaces", m -> at(m, "spec.dataset").put("template", "My Template"),
                        "spec.dataset.template", "should match"),
                bad("DPO on instruction data", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.dataset").put("format", "alpaca");
                }, "spec", "training.method dpo and orpo train on prompt/chosen/rejected pairs: set dataset.format: preference"),
                bad("ORPO on plain text", m -> {
                    at(m, "spec.training").put("method", "orpo");
                    at(m, "spec.dataset").put("format", "text");
                }, "spec", "set dataset.format: preference"),
                bad("DPO settings on an SFT run", m -> at(m, "spec.training.dpo").put("beta", 0.2),
                        "spec.training", "training.dpo applies only with training.method: dpo"),
                bad("ORPO settings on a DPO run", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.training.orpo").put("beta", 0.2);
                }, "spec.training", "training.orpo applies only with training.method: orpo"),
                bad("misspelt DPO loss", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.training.dpo").put("lossType", "sigmiod");
                }, "spec.training.dpo.lossType", "Unsupported value: \"sigmiod\""),
                bad("label smoothing with the IPO loss", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.training.dpo").put("lossType", "ipo").put("labelSmoothing", 0.1);
                }, "spec.training.dpo", "training.dpo.labelSmoothing applies only to training.dpo.lossType: sigmoid"),
                bad("zero DPO beta", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.training.dpo").put("beta", 0);
                }, "spec.training.dpo.beta", "should be greater than 0"),
                bad("label smoothing of one half", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.training.dpo").put("labelSmoothing", 0.5);
                }, "spec.training.dpo", "training.dpo.labelSmoothing must be below 0.5"),
                bad("packing preference pairs", m -> {
                    at(m, "spec.training").put("method", "dpo");
                    at(m, "spec.dataset").put("format", "preference").put("packing", true);
                }, "spec", "dataset.packing applies to training.method: sft only"),
                bad("unknown training method", m -> at(m, "spec.training").put("method", "ppo"),
                        "spec.training.method", "Unsupported value: \"ppo\""),
                bad("model source with an https URL", m -> at(m, "spec.model").put("source", "https://huggingface.example/Qwen/Qwen3-0.6B"),
                        "spec.model", "model.source must be hf://ORG/NAME[@REVISION]"),
                bad("model source without an organisation", m -> at(m, "spec.model").put("source", "hf://Qwen3-0.6B"),
                        "spec.model", "model.source must be hf://ORG/NAME[@REVISION]"),
                bad("dataset repository as the model", m -> at(m, "spec.model").put("source", "hf://datasets/tatsu-lab/alpaca"),
                        "spec.model", "use dataset.source for data"),
                bad("model repository as the dataset", m -> at(m, "spec.dataset").put("source", "hf://Qwen/Qwen3-0.6B"),
                        "spec.dataset", "dataset.source must be hf://datasets/ORG/NAME[@REVISION][/FILE-OR-DIR]"),
                bad("token secret without a source", m -> at(m, "spec.model.tokenSecret").put("name", "hf-token"),
                        "spec.model", "model.tokenSecret is only used to download model.source"),
                bad("OCI model with an upper-case repository", m -> at(m, "spec.model").put("source", "oci://localhost:5000/Models/Qwen"),
                        "spec.model", "oci://REGISTRY/REPOSITORY[:TAG or @sha256:DIGEST]"),
                bad("push target with a scheme", m -> at(m, "spec.output.push").put("oci", "oci://localhost:5000/adapters/t"),
                        "spec.output.push.oci", "output.push.oci must be an OCI reference REGISTRY/REPOSITORY[:TAG] without a scheme"),
                bad("push without a target", m -> at(m, "spec.output.push").put("insecure", true),
                        "spec.output.push.oci", "Required value"),
                bad("pushing a merged model that is not written", m -> {
                    at(m, "spec.output").put("merge", false);
                    at(m, "spec.output.push").put("oci", "localhost:5000/adapters/t").put("merged", true);
                }, "spec.output", "output.push.merged pushes the merged model: set output.merge: true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void mistakeIsRejectedNamingTheField(String why, Consumer<ObjectNode> mistake, String field, String message) {
        ObjectNode manifest = valid();
        mistake.accept(manifest);

        List<Violation> violations = VALIDATOR.validateCreate(manifest);

        assertThat(violations).as(why).anySatisfy(v -> {
            assertThat(v.field()).isEqualTo(field);
            assertThat(v.message()).contains(message);
        });
    }

    /** Every form of quantity the API server parses is accepted: integers, decimals, exponents, SI and binary suffixes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("quantities")
    void quantitiesInTheApiServersSyntaxAreAccepted(JsonNode quantity) {
        ObjectNode manifest = valid();
        at(manifest, "spec.resources").set("cpu", quantity);
        at(manifest, "spec.resources").set("memory", quantity);
        at(manifest, "spec.resources").set("sharedMemory", quantity);

        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();
    }

    static Stream<JsonNode> quantities() {
        var json = TrainerJson.json().getNodeFactory();
        return Stream.of(json.numberNode(8), json.textNode("8"), json.textNode("500m"), json.textNode("64Gi"),
                json.textNode("1.5G"), json.textNode(".5"), json.textNode("1e3"), json.textNode("+2"), json.textNode("128974848"));
    }

    /** kubectl apply needs a name; `finetune run` used to train a nameless job as "local" and the cluster then refused it. */
    @Test
    void aJobWithoutANameIsRejected() {
        ObjectNode manifest = valid();
        ((ObjectNode) manifest.get("metadata")).remove("name");

        assertThat(VALIDATOR.validateCreate(manifest))
                .containsExactly(new Violation("metadata.name", "Required value: name or generateName is required"));
        ((ObjectNode) manifest.get("metadata")).put("generateName", "t-");
        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();
    }

    @Test
    void theTableCoversAtLeastFifteenMistakes() {
        assertThat(mistakes().count()).isGreaterThanOrEqualTo(15);
    }

    @Test
    void hubAndRegistrySourcesAreAccepted() {
        ObjectNode manifest = valid();
        at(manifest, "spec.model").put("source", "hf://Qwen/Qwen3-0.6B@main");
        at(manifest, "spec.model.tokenSecret").put("name", "hf-token");
        at(manifest, "spec.dataset").put("source", "hf://datasets/tatsu-lab/alpaca@v1.0/data/train.jsonl");
        at(manifest, "spec.output.push").put("oci", "localhost:5000/adapters/t:v1").put("insecure", true);

        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();

        at(manifest, "spec.model").put("source", "oci://localhost:5000/models/qwen3@sha256:" + "a".repeat(64));
        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();
    }

    @Test
    void theBaseOfTheTableIsValid() {
        assertThat(VALIDATOR.validateCreate(valid())).isEmpty();
    }

    @Test
    void changingWhatDefinesTheRunIsRejectedOnUpdate() {
        ObjectNode before = valid();
        ObjectNode after = valid();
        at(after, "spec.lora").put("rank", 32);

        List<Violation> violations = VALIDATOR.validateUpdate(before, after);

        assertThat(violations).singleElement().satisfies(v -> {
            assertThat(v.field()).isEqualTo("spec.lora");
            assertThat(v.message()).contains("spec.lora is immutable", "create a new FineTuneJob");
        });
    }

    @Test
    void suspendingAndRetuningLimitsIsAllowedOnUpdate() {
        ObjectNode before = valid();
        ObjectNode after = valid();
        ((ObjectNode) after.get("spec")).put("suspend", true).put("backoffLimit", 6).put("ttlSecondsAfterFinished", 3600);

        assertThat(VALIDATOR.validateUpdate(before, after)).isEmpty();
    }

    @Test
    void sectionsWrittenEmptyOrPartlyGetEveryDefaultTheRulesRead() {
        ObjectNode manifest = valid();
        at(manifest, "spec.lora").put("rank", 32);
        at(manifest, "spec.training");
        at(manifest, "spec.resources").put("gpus", 0);
        at(manifest, "spec.dataset.selection");
        at(manifest, "spec.training.earlyStopping");

        assertThat(VALIDATOR.validateCreate(manifest)).isEmpty();
        assertThat(VALIDATOR.withDefaults(manifest).at("/spec/lora/targetModules/0").asText()).isEqualTo("all-linear");
        assertThat(VALIDATOR.withDefaults(manifest).at("/spec/training/precision").asText()).isEqualTo("bf16");
    }

    @Test
    void preferenceMethodsOnPreferenceDataAreValidAndDefaulted() {
        ObjectNode dpo = valid();
        at(dpo, "spec.training").put("method", "dpo");
        at(dpo, "spec.training.dpo");
        at(dpo, "spec.dataset").put("format", "preference");
        ObjectNode orpo = valid();
        at(orpo, "spec.training").put("method", "orpo");

        assertThat(VALIDATOR.validateCreate(dpo)).isEmpty();
        assertThat(VALIDATOR.validateCreate(orpo)).isEmpty();
        JsonNode defaulted = VALIDATOR.withDefaults(dpo);
        assertThat(defaulted.at("/spec/training/dpo/beta").asDouble()).isEqualTo(0.1);
        assertThat(defaulted.at("/spec/training/dpo/lossType").asText()).isEqualTo("sigmoid");
        assertThat(defaulted.at("/spec/training/dpo/labelSmoothing").asDouble()).isEqualTo(0.0);
        assertThat(VALIDATOR.withDefaults(valid()).at("/spec/training/method").asText()).isEqualTo("sft");
    }

    @Test
    void aNulInAnyPathIsRejectedBeforeAFileSystemSeesIt() {
        for (String field : List.of("spec.model.pvc", "spec.dataset.pvc", "spec.output.pvc")) {
            ObjectNode manifest = valid();
            at(manifest, field).put("path", "dir/\u0000name");

            assertThat(VALIDATOR.validateCreate(manifest)).as(field).singleElement()
                    .satisfies(v -> assertThat(v.toString()).contains(field + ".path", "must not contain control characters"));
        }
        ObjectNode eval = valid();
        at(eval, "spec.dataset").put("evalPath", "\u0000");
        assertThat(VALIDATOR.validateCreate(eval).toString()).contains("dataset.evalPath must not contain control characters");
    }

    @Test
    void packingLeftUnsetStaysUnsetForTheTrainerToDecide() {
        assertThat(VALIDATOR.withDefaults(valid()).at("/spec/dataset").has("packing")).isFalse();
        ObjectNode dpoUnpacked = valid();
        at(dpoUnpacked, "spec.training").put("method", "dpo");
        at(dpoUnpacked, "spec.dataset").put("format", "preference").put("packing", false);
        ObjectNode sftPacked = valid();
        at(sftPacked, "spec.dataset").put("packing", true);

        assertThat(VALIDATOR.validateCreate(dpoUnpacked)).isEmpty();
        assertThat(VALIDATOR.validateCreate(sftPacked)).isEmpty();
        assertThat(VALIDATOR.withDefaults(sftPacked).at("/spec/dataset/packing").asBoolean()).isTrue();
    }

    @Test
    void wrongKindIsNamed() {
        JsonNode manifest = valid().put("kind", "TrainJob");

        assertThat(VALIDATOR.validateCreate(manifest)).extracting(Violation::toString)
                .contains("kind: must be FineTuneJob, was \"TrainJob\"");
    }
}
