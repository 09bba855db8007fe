package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * What to train, on what, and where to put the result.
 *
 * <p>A FineTuneJob is one training run: what defines the run (model, dataset, lora, training, resources
 * and output) is immutable once applied; to train with other settings, create another FineTuneJob.
 * suspend, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished and image may change.
 */
@JsonClassDescription("What to train, on what, and where to put the result. model, dataset, lora, training, resources "
        + "and output are immutable: a FineTuneJob is one run; create a new one to train with other settings.")
@ValidationRule(value = "!(self.training.precision == 'fp16' && self.resources.gpus == 0)",
        message = "training.precision fp16 needs GPUs; on CPU (resources.gpus: 0) use bf16 or fp32")
@ValidationRule(value = "!has(self.training.earlyStopping) || has(self.dataset.evalPath) || !has(self.dataset.evalSplit) || self.dataset.evalSplit > 0.0",
        message = "training.earlyStopping needs evaluation data: set dataset.evalSplit above 0 or dataset.evalPath")
@ValidationRule(value = "self.training.method == 'sft' || self.dataset.format == 'preference' || self.dataset.format == 'auto'",
        message = "training.method dpo and orpo train on prompt/chosen/rejected pairs: set dataset.format: preference (or auto "
                + "with preference records)")
@ValidationRule(value = "self.training.method == 'sft' || !has(self.dataset.packing) || !self.dataset.packing",
        message = "dataset.packing applies to training.method: sft only: dpo and orpo score each reply as its own sequence; "
                + "remove dataset.packing or set it to false")
public class FineTuneJobSpec {

    private static final String IMMUTABLE = " is immutable: a FineTuneJob is one training run; create a new FineTuneJob "
            + "(or delete and re-apply this one) to train with other settings";

    @Required
    @ValidationRule(value = "self == oldSelf", message = "spec.model" + IMMUTABLE)
    @JsonPropertyDescription("The base model to adapt.")
    private ModelSpec model;

    @Required
    @ValidationRule(value = "self == oldSelf", message = "spec.dataset" + IMMUTABLE)
    @JsonPropertyDescription("The training data.")
    private DatasetSpec dataset;

    @Default("{}")
    @ValidationRule(value = "self == oldSelf", message = "spec.lora" + IMMUTABLE)
    @JsonPropertyDescription("The LoRA adapters.")
    private LoraSpec lora = new LoraSpec();

    @Default("{}")
    @ValidationRule(value = "self == oldSelf", message = "spec.training" + IMMUTABLE)
    @JsonPropertyDescription("Optimisation and evaluation.")
    private TrainingSpec training = new TrainingSpec();

    @Default("{}")
    @ValidationRule(value = "self == oldSelf", message = "spec.resources" + IMMUTABLE)
    @JsonPropertyDescription("GPUs, workers and placement.")
    private ResourcesSpec resources = new ResourcesSpec();

    @Required
    @ValidationRule(value = "self == oldSelf", message = "spec.output" + IMMUTABLE)
    @JsonPropertyDescription("Where results are written.")
    private OutputSpec output;

    @Size(max = 1024)
    @JsonPropertyDescription("Trainer image. Default: the operator's configured trainer image for GPU or CPU jobs.")
    private String image;

    @Default("false")
    @JsonPropertyDescription("true stops the workers (a checkpoint is taken on the way down) and keeps status and outputs; "
            + "false again resumes from the last checkpoint. Kueue sets this while the job waits for quota.")
    private boolean suspend = false;

    @Default("3")
    @Min(0)
    @Max(100)
    @JsonPropertyDescription("Gang restarts after retryable failures (node loss, NCCL timeout, preemption) before the job "
            + "fails. Each restart resumes from the last checkpoint. Permanent failures (bad data, OOM, NaN loss) never retry.")
    private int backoffLimit = 3;

    @Min(1)
    @JsonPropertyDescription("Fail the job when it has been running (not suspended) for longer than this.")
    private Long activeDeadlineSeconds;

    @Min(0)
    @JsonPropertyDescription("Delete the FineTuneJob this long after it succeeded or failed (outputs on the volume stay).")
    private Integer ttlSecondsAfterFinished;

    public ModelSpec getModel() {
        return model;
    }

    public void setModel(ModelSpec model) {
        this.model = model;
    }

    public DatasetSpec getDataset() {
        return dataset;
    }

    public void setDataset(DatasetSpec dataset) {
        this.dataset = dataset;
    }

    public LoraSpec getLora() {
        return lora;
    }

    public void setLora(LoraSpec lora) {
        this.lora = lora;
    }

    public TrainingSpec getTraining() {
        return training;
    }

    public void setTraining(TrainingSpec training) {
        this.training = training;
    }

    public ResourcesSpec getResources() {
        return resources;
    }

    public void setResources(ResourcesSpec resources) {
        this.resources = resources;
    }

    public OutputSpec getOutput() {
        return output;
    }

    public void setOutput(OutputSpec output) {
        this.output = output;
    }

    public String getImage() {
        return image;
    }

    public void setImage(String image) {
        this.image = image;
    }

    public boolean isSuspend() {
        return suspend;
    }

    public void setSuspend(boolean suspend) {
        this.suspend = suspend;
    }

    public int getBackoffLimit() {
        return backoffLimit;
    }

    public void setBackoffLimit(int backoffLimit) {
        this.backoffLimit = backoffLimit;
    }

    public Long getActiveDeadlineSeconds() {
        return activeDeadlineSeconds;
    }

    public void setActiveDeadlineSeconds(Long activeDeadlineSeconds) {
        this.activeDeadlineSeconds = activeDeadlineSeconds;
    }

    public Integer getTtlSecondsAfterFinished() {
        return ttlSecondsAfterFinished;
    }

    public void setTtlSecondsAfterFinished(Integer ttlSecondsAfterFinished) {
        this.ttlSecondsAfterFinished = ttlSecondsAfterFinished;
    }
}
