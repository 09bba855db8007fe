package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** The training data and how it becomes token ids and labels. */
@JsonClassDescription("The training data and how it becomes token ids and labels.")
@ValidationRule(value = "!(has(self.evalSplit) && has(self.evalPath))",
        message = "set either dataset.evalSplit (hold out a fraction) or dataset.evalPath (a separate eval file), not both")
@ValidationRule(value = "!self.splitTurns || self.trainOn == 'allAssistantTurns'",
        message = "dataset.splitTurns makes one sample per assistant turn, which only applies with dataset.trainOn: allAssistantTurns")
@ValidationRule(value = "!has(self.evalPath) || (!self.evalPath.startsWith('/') && !self.evalPath.matches('(^|/)[.][.](/|$)'))",
        message = "dataset.evalPath must be relative to the dataset volume's root and must not contain '..'")
@ValidationRule(value = "!has(self.evalPath) || !self.evalPath.matches('" + PvcPath.CONTROL_CHARACTER + "')",
        message = "dataset.evalPath must not contain control characters (NUL, tab, newline, ...): write the file name "
                + "as it is on the volume")
@ValidationRule(value = "!has(self.source) || self.source.matches('" + DatasetSpec.HF_DATASET_RULE + "')",
        message = "dataset.source must be hf://datasets/ORG/NAME[@REVISION][/FILE-OR-DIR] (a Hugging Face dataset "
                + "repository, optionally a file or directory inside it)")
@ValidationRule(value = "!has(self.tokenSecret) || has(self.source)",
        message = "dataset.tokenSecret is only used to download dataset.source; set dataset.source or remove the secret")
public class DatasetSpec {

    /** CEL (RE2) form of an hf:// dataset source; the trainer parses the same shape in dev.finetune.api.source. */
    static final String HF_DATASET_RULE = "^hf://datasets/[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*"
            + "(@[-A-Za-z0-9_.]+)?(/[-A-Za-z0-9_.]+)*$";

    /** Used when neither evalSplit nor evalPath is set. */
    public static final double DEFAULT_EVAL_SPLIT = 0.1;

    @Required
    @JsonPropertyDescription("The dataset file (.json or .jsonl) or a directory of them. With source: the volume and "
            + "directory of the download cache.")
    private PvcPath pvc;

    @Size(max = 512)
    @JsonPropertyDescription("Download the data before training: hf://datasets/ORG/NAME[@REVISION][/FILE-OR-DIR] from the "
            + "Hugging Face Hub; the file or directory inside the repository is what is trained on (default: all of it).")
    private String source;

    @JsonPropertyDescription("Secret with the hub token (key `token`) for source. Default: anonymous.")
    private SecretKeyRef tokenSecret;

    @Default("auto")
    @JsonPropertyDescription("Record shape: auto (detected), alpaca, conversation, sharegpt, messages, preference or text.")
    private DatasetFormat format = DatasetFormat.AUTO;

    @Min(0)
    @Max(0.9)
    @JsonPropertyDescription("Fraction of records held out for evaluation (seeded split). Default 0.1 when evalPath is not set; "
            + "0 disables evaluation.")
    private Double evalSplit;

    @Size(min = 1, max = 1024)
    @JsonPropertyDescription("A separate eval file on the same volume as pvc, relative to its root. Excludes evalSplit.")
    private String evalPath;

    @Default("512")
    @Min(16)
    @Max(131072)
    @JsonPropertyDescription("Longest sample in tokens after the chat template is applied.")
    private int maxSeqLength = 512;

    @Default("true")
    @JsonPropertyDescription("Cut samples longer than maxSeqLength and report how many were cut; false fails on the first "
            + "such sample, naming it.")
    private boolean truncation = true;

    @JsonPropertyDescription("Pack several samples into each maxSeqLength row (best-fit decreasing); positions restart "
            + "and attention never crosses samples. Unset: sft packs where it wins, i.e. when packing saves at least a "
            + "quarter of the token positions the unpacked batches compute (their padding) and the packed epoch keeps at "
            + "least 100 optimizer steps; the dataset report gives the decision and its figures. dpo and orpo never pack.")
    private Boolean packing;

    @Default("false")
    @JsonPropertyDescription("Batch samples of similar length together to waste less padding.")
    private boolean groupByLength = false;

    @Default("model")
    @Pattern("^[a-z0-9][a-z0-9._-]*$")
    @JsonPropertyDescription("Chat template: `model` uses the model's own (tokenizer_config.json chat_template; a model "
            + "without one gets the named template its vocabulary was made for, reported); or a named one: chatml, llama3, "
            + "alpaca, zephyr, mistral.")
    private String template = "model";

    @JsonPropertyDescription("Passed to templates that support it (Qwen3): true renders reasoning blocks, false the empty "
            + "think block. Default: the template's own default.")
    private Boolean enableThinking;

    @Size(max = 16384)
    @JsonPropertyDescription("System message for records that have none. Default: none (the template decides).")
    private String systemPrompt;

    @Default("allAssistantTurns")
    @JsonPropertyDescription("Which tokens are learned: allAssistantTurns, lastAssistantTurn, or promptAndCompletion.")
    private TrainOn trainOn = TrainOn.ALL_ASSISTANT_TURNS;

    @Default("false")
    @JsonPropertyDescription("Train each assistant turn as its own sample, the conversation before it as the prompt. "
            + "Needed for multi-turn data with templates that render earlier turns differently from the newest one "
            + "(Qwen3 drops earlier reasoning); without it such records are refused.")
    private boolean splitTurns = false;

    @Size(max = 32)
    @JsonPropertyDescription("Rename record fields to the format's names, e.g. {instruction: question, output: answer}.")
    private Map<String, String> columns;

    @Default("false")
    @JsonPropertyDescription("Skip malformed records and report how many, instead of failing on the first one.")
    private boolean skipInvalidRecords = false;

    @JsonPropertyDescription("Filter records before training: length bounds, dedupe, top-N by score or length.")
    private DataSelection selection;

    /** The eval fraction in force: the explicit one, none with an eval file, else the default. */
    public double effectiveEvalSplit() {
        if (evalSplit != null) {
            return evalSplit;
        }
        return evalPath != null ? 0.0 : DEFAULT_EVAL_SPLIT;
    }

    public PvcPath getPvc() {
        return pvc;
    }

    public void setPvc(PvcPath pvc) {
        this.pvc = pvc;
    }

    public String getSource() {
        return source;
    }

    public void setSource(String source) {
        this.source = source;
    }

    public SecretKeyRef getTokenSecret() {
        return tokenSecret;
    }

    public void setTokenSecret(SecretKeyRef tokenSecret) {
        this.tokenSecret = tokenSecret;
    }

    public DatasetFormat getFormat() {
        return format;
    }

    public void setFormat(DatasetFormat format) {
        this.format = format;
    }

    public Double getEvalSplit() {
        return evalSplit;
    }

    public void setEvalSplit(Double evalSplit) {
        this.evalSplit = evalSplit;
    }

    public String getEvalPath() {
        return evalPath;
    }

    public void setEvalPath(String evalPath) {
        this.evalPath = evalPath;
    }

    public int getMaxSeqLength() {
        return maxSeqLength;
    }

    public void setMaxSeqLength(int maxSeqLength) {
        this.maxSeqLength = maxSeqLength;
    }

    public boolean isTruncation() {
        return truncation;
    }

    public void setTruncation(boolean truncation) {
        this.truncation = truncation;
    }

    /** true or false as set; null: decided per dataset (where packing wins, sft only). */
    public Boolean getPacking() {
        return packing;
    }

    public void setPacking(Boolean packing) {
        this.packing = packing;
    }

    public boolean isGroupByLength() {
        return groupByLength;
    }

    public void setGroupByLength(boolean groupByLength) {
        this.groupByLength = groupByLength;
    }

    public String getTemplate() {
        return template;
    }

    public void setTemplate(String template) {
        this.template = template;
    }

    public Boolean getEnableThinking() {
        return enableThinking;
    }

    public void setEnableThinking(Boolean enableThinking) {
        this.enableThinking = enableThinking;
    }

    public String getSystemPrompt() {
        return systemPrompt;
    }

    public void setSystemPrompt(String systemPrompt) {
        this.systemPrompt = systemPrompt;
    }

    public TrainOn getTrainOn() {
        return trainOn;
    }

    public void setTrainOn(TrainOn trainOn) {
        this.trainOn = trainOn;
    }

    public Map<String, String> getColumns() {
        return columns;
    }

    public void setColumns(Map<String, String> columns) {
        this.columns = columns;
    }

    public boolean isSkipInvalidRecords() {
        return skipInvalidRecords;
    }

    public void setSkipInvalidRecords(boolean skipInvalidRecords) {
        this.skipInvalidRecords = skipInvalidRecords;
    }

    public DataSelection getSelection() {
        return selection;
    }

    public void setSelection(DataSelection selection) {
        this.selection = selection;
    }

    public boolean isSplitTurns() {
        return splitTurns;
    }

    public void setSplitTurns(boolean splitTurns) {
        this.splitTurns = splitTurns;
    }
}
