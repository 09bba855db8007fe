package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One evaluation in the job's history. */
@JsonClassDescription("One evaluation: the end of an epoch, or a step-based evaluation within one.")
public class EpochRecord {

    @JsonPropertyDescription("Epoch the evaluation belongs to (1-based).")
    private int epoch;

    @JsonPropertyDescription("Optimizer step at which it was taken.")
    private long step;

    @JsonPropertyDescription("Curriculum stage, if any.")
    private String stage;

    @JsonPropertyDescription("Mean training loss per label token over the epoch (or since the previous evaluation).")
    private Double trainLoss;

    @JsonPropertyDescription("Token-weighted eval loss.")
    private Double evalLoss;

    @JsonPropertyDescription("exp(evalLoss).")
    private Double perplexity;

    @JsonPropertyDescription("Training throughput over the epoch, tokens per second.")
    private Double tokensPerSecond;

    @JsonPropertyDescription("When it was taken (RFC 3339).")
    private String time;

    public EpochRecord() {
    }

    public EpochRecord(int epoch, long step, Double trainLoss, Double evalLoss, Double perplexity) {
        this.epoch = epoch;
        this.step = step;
        this.trainLoss = trainLoss;
        this.evalLoss = evalLoss;
        this.perplexity = perplexity;
    }

    public int getEpoch() {
        return epoch;
    }

    public void setEpoch(int epoch) {
        this.epoch = epoch;
    }

    public long getStep() {
        return step;
    }

    public void setStep(long step) {
        this.step = step;
    }

    public String getStage() {
        return stage;
    }

    public void setStage(String stage) {
        this.stage = stage;
    }

    public Double getTrainLoss() {
        return trainLoss;
    }

    public void setTrainLoss(Double trainLoss) {
        this.trainLoss = trainLoss;
    }

    public Double getEvalLoss() {
        return evalLoss;
    }

    public void setEvalLoss(Double evalLoss) {
        this.evalLoss = evalLoss;
    }

    public Double getPerplexity() {
        return perplexity;
    }

    public void setPerplexity(Double perplexity) {
        this.perplexity = perplexity;
    }

    public Double getTokensPerSecond() {
        return tokensPerSecond;
    }

    public void setTokensPerSecond(Double tokensPerSecond) {
        this.tokensPerSecond = tokensPerSecond;
    }

    public String getTime() {
        return time;
    }

    public void setTime(String time) {
        this.time = time;
    }
}
