package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** Optimisation: epochs, learning rate and its schedule, batch sizes, precision, evaluation cadence. */
@JsonClassDescription("Optimisation: epochs, learning rate and schedule, batch sizes, precision, evaluation cadence.")
@ValidationRule(value = "!(has(self.warmupSteps) && has(self.warmupRatio))",
        message = "set either training.warmupSteps or training.warmupRatio, not both")
@ValidationRule(value = "!(has(self.epochs) && has(self.curriculum))",
        message = "training.epochs cannot be combined with training.curriculum: the stages' epochs add up to the total")
@ValidationRule(value = "!has(self.dpo) || self.method == 'dpo'",
        message = "training.dpo applies only with training.method: dpo")
@ValidationRule(value = "!has(self.orpo) || self.method == 'orpo'",
        message = "training.orpo applies only with training.method: orpo")
public class TrainingSpec {

    /** Used when neither epochs nor a curriculum is set. */
    public static final int DEFAULT_EPOCHS = 3;
    /** Used when neither warmupSteps nor warmupRatio is set. */
    public static final double DEFAULT_WARMUP_RATIO = 0.03;

    @Default("sft")
    @JsonPropertyDescription("What the loss optimises: sft (next-token cross-entropy), dpo (preference pairs against "
            + "the base model as reference) or orpo (SFT plus an odds-ratio term). dpo and orpo need a preference dataset.")
    private TrainingMethod method = TrainingMethod.SFT;

    @JsonPropertyDescription("DPO settings; only with method: dpo. Defaults apply when omitted.")
    private DpoSpec dpo;

    @JsonPropertyDescription("ORPO settings; only with method: orpo. Defaults apply when omitted.")
    private OrpoSpec orpo;

    @Min(1)
    @Max(1000)
    @JsonPropertyDescription("Passes over the training data. Default 3; with a curriculum, the sum of the stages' epochs.")
    private Integer epochs;

    @Default("2.0E-4")
    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("Peak learning rate of AdamW, reached after warmup.")
    private double learningRate = 2.0e-4;

    @Default("cosine")
    @JsonPropertyDescription("Schedule after warmup: cosine (to zero), linear (to zero) or constant.")
    private Scheduler scheduler = Scheduler.COSINE;

    @Min(0)
    @JsonPropertyDescription("Optimizer steps of linear warmup from zero. Excludes warmupRatio.")
    private Integer warmupSteps;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Warmup as a fraction of all optimizer steps. Default 0.03 when warmupSteps is not set.")
    private Double warmupRatio;

    @Default("4")
    @Min(1)
    @Max(4096)
    @JsonPropertyDescription("Samples (rows) per micro-batch on each process.")
    private int batchSize = 4;

    @Default("1")
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Micro-batches per optimizer step. Gradients are normalised by the label tokens of the "
            + "whole step, so the result does not depend on how a step is split.")
    private int gradientAccumulationSteps = 1;

    @Default("1.0")
    @Min(0)
    @JsonPropertyDescription("Clip the global L2 norm of all LoRA gradients to this; 0 disables clipping.")
    private double maxGradNorm = 1.0;

    @Default("0.0")
    @Min(0)
    @Max(1)
    @JsonPropertyDescription("AdamW decoupled weight decay.")
    private double weightDecay = 0.0;

    @Default("bf16")
    @JsonPropertyDescription("Base weights and activations: bf16, fp16 (GPU only) or fp32. LoRA weights, optimizer state "
            + "and the loss are always fp32.")
    private Precision precision = Precision.BF16;

    @Default("false")
    @JsonPropertyDescription("Recompute each layer's activations in the backward pass: much less memory, ~30% more compute.")
    private boolean gradientCheckpointing = false;

    @Default("42")
    @JsonPropertyDescription("Seed for adapter init, dropout, shuffling and the eval split: same seed, same run.")
    private long seed = 42;

    @Min(1)
    @JsonPropertyDescription("Also evaluate every N optimizer steps. Evaluation always runs at the end of each epoch.")
    private Integer evalEverySteps;

    @Default("10")
    @Min(1)
    @JsonPropertyDescription("Log train loss, gradient norm, learning rate and tokens/s every N optimizer steps.")
    private int logEverySteps = 10;

    @Min(1)
    @JsonPropertyDescription("Stop after this many optimizer steps in total, even mid-epoch.")
    private Integer maxSteps;

    @JsonPropertyDescription("Stop when eval loss stops improving.")
    private EarlyStopping earlyStopping;

    @JsonPropertyDescription("Easy-to-hard stages, each with its own epochs and learning rate. Excludes epochs.")
    private Curriculum curriculum;

    @Default("3")
    @Min(0)
    @Max(32)
    @JsonPropertyDescription("Eval prompts answered by the model before and after training, kept in the report.")
    private int samplePrompts = 3;

    @Default("64")
    @Min(1)
    @Max(4096)
    @JsonPropertyDescription("Longest sample answer in new tokens.")
    private int sampleMaxNewTokens = 64;

    /** Epochs in force: the curriculum's total, the explicit value, or the default. */
    public int effectiveEpochs() {
        if (curriculum != null && curriculum.getStages() != null) {
            return curriculum.getStages().stream().mapToInt(CurriculumStage::getEpochs).sum();
        }
        return epochs != null ? epochs : DEFAULT_EPOCHS;
    }

    /** Warmup steps in force for a run of {@code totalSteps} optimizer steps. */
    public int effectiveWarmupSteps(long totalSteps) {
        if (warmupSteps != null) {
            return warmupSteps;
        }
        double ratio = warmupRatio != null ? warmupRatio : DEFAULT_WARMUP_RATIO;
        return (int) Math.ceil(ratio * totalSteps);
    }

    /** DPO settings in force: the explicit ones or the defaults. */
    public DpoSpec effectiveDpo() {
        return dpo != null ? dpo : new DpoSpec();
    }

    /** ORPO settings in force: the explicit ones or the defaults. */
    public OrpoSpec effectiveOrpo() {
        return orpo != null ? orpo : new OrpoSpec();
    }

    public TrainingMethod getMethod() {
        return method;
    }

    public void setMethod(TrainingMethod method) {
        this.method = method;
    }

    public DpoSpec getDpo() {
        return dpo;
    }

    public void setDpo(DpoSpec dpo) {
        this.dpo = dpo;
    }

    public OrpoSpec getOrpo() {
        return orpo;
    }

    public void setOrpo(OrpoSpec orpo) {
        this.orpo = orpo;
    }

    public Integer getEpochs() {
        return epochs;
    }

    public void setEpochs(Integer epochs) {
        this.epochs = epochs;
    }

    public double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    public Scheduler getScheduler() {
        return scheduler;
    }

    public void setScheduler(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    public Integer getWarmupSteps() {
        return warmupSteps;
    }

    public void setWarmupSteps(Integer warmupSteps) {
        this.warmupSteps = warmupSteps;
    }

    public Double getWarmupRatio() {
        return warmupRatio;
    }

    public void setWarmupRatio(Double warmupRatio) {
        this.warmupRatio = warmupRatio;
    }

    public int getBatchSize() {
        return batchSize;
    }

    public void setBatchSize(int batchSize) {
        this.batchSize = batchSize;
    }

    public int getGradientAccumulationSteps() {
        return gradientAccumulationSteps;
    }

    public void setGradientAccumulationSteps(int gradientAccumulationSteps) {
        this.gradientAccumulationSteps = gradientAccumulationSteps;
    }

    public double getMaxGradNorm() {
        return maxGradNorm;
    }

    public void setMaxGradNorm(double maxGradNorm) {
        this.maxGradNorm = maxGradNorm;
    }

    public double getWeightDecay() {
        return weightDecay;
    }

    public void setWeightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
    }

    public Precision getPrecision() {
        return precision;
    }

    public void setPrecision(Precision precision) {
        this.precision = precision;
    }

    public boolean isGradientCheckpointing() {
        return gradientCheckpointing;
    }

    public void setGradientCheckpointing(boolean gradientCheckpointing) {
        this.gradientCheckpointing = gradientCheckpointing;
    }

    public long getSeed() {
        return seed;
    }

    public void setSeed(long seed) {
        this.seed = seed;
    }

    public Integer getEvalEverySteps() {
        return evalEverySteps;
    }

    public void setEvalEverySteps(Integer evalEverySteps) {
        this.evalEverySteps = evalEverySteps;
    }

    public int getLogEverySteps() {
        return logEverySteps;
    }

    public void setLogEverySteps(int logEverySteps) {
        this.logEverySteps = logEverySteps;
    }

    public Integer getMaxSteps() {
        return maxSteps;
    }

    public void setMaxSteps(Integer maxSteps) {
        this.maxSteps = maxSteps;
    }

    public EarlyStopping getEarlyStopping() {
        return earlyStopping;
    }

    public void setEarlyStopping(EarlyStopping earlyStopping) {
        this.earlyStopping = earlyStopping;
    }

    public Curriculum getCurriculum() {
        return curriculum;
    }

    public void setCurriculum(Curriculum curriculum) {
        this.curriculum = curriculum;
    }

    public int getSamplePrompts() {
        return samplePrompts;
    }

    public void setSamplePrompts(int samplePrompts) {
        this.samplePrompts = samplePrompts;
    }

    public int getSampleMaxNewTokens() {
        return sampleMaxNewTokens;
    }

    public void setSampleMaxNewTokens(int sampleMaxNewTokens) {
        this.sampleMaxNewTokens = sampleMaxNewTokens;
    }
}
