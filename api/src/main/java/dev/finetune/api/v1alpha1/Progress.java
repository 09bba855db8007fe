package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The trainer's latest numbers, copied from rank 0's report. Loss values are exact, not smoothed. */
@JsonClassDescription("The trainer's latest numbers as reported by rank 0. evalLoss is the token-weighted mean NLL over "
        + "the whole eval set (for dpo and orpo, the method's mean loss over the eval pairs); perplexity = exp(evalLoss).")
public class Progress {

    @JsonPropertyDescription("Epochs completed (0 before the first ends).")
    private Integer epoch;

    @JsonPropertyDescription("Epochs in the run.")
    private Integer totalEpochs;

    @JsonPropertyDescription("Optimizer steps completed.")
    private Long step;

    @JsonPropertyDescription("Optimizer steps in the run.")
    private Long totalSteps;

    @JsonPropertyDescription("Curriculum stage being trained, if any.")
    private String stage;

    @JsonPropertyDescription("Mean training loss per label token since the last report.")
    private Double trainLoss;

    @JsonPropertyDescription("Latest eval loss: sum of token NLL / number of label tokens over the eval set.")
    private Double evalLoss;

    @JsonPropertyDescription("exp(evalLoss); SFT only (training.method: sft), where evalLoss is a token-mean NLL.")
    private Double perplexity;

    @JsonPropertyDescription("DPO/ORPO: the fraction of eval pairs whose chosen reply's reward is strictly above the "
            + "rejected one's, over the whole eval set.")
    private Double rewardAccuracy;

    @JsonPropertyDescription("DPO/ORPO: the mean over eval pairs of chosen minus rejected reward.")
    private Double rewardMargin;

    @JsonPropertyDescription("Lowest eval loss so far.")
    private Double bestEvalLoss;

    @JsonPropertyDescription("Epoch of the lowest eval loss.")
    private Integer bestEpoch;

    @JsonPropertyDescription("Learning rate at the latest step.")
    private Double learningRate;

    @JsonPropertyDescription("Global gradient norm before clipping at the latest logged step.")
    private Double gradNorm;

    @JsonPropertyDescription("Training tokens (input tokens, padding excluded) per second across all processes.")
    private Double tokensPerSecond;

    @JsonPropertyDescription("fp16 only: the dynamic loss scale after the latest logged step (halved on each overflow, "
            + "doubled after 2000 clean steps).")
    private Double lossScale;

    @JsonPropertyDescription("fp16 only: optimizer steps skipped so far because their gradients overflowed.")
    private Long skippedSteps;

    @JsonPropertyDescription("Estimated seconds until training ends.")
    private Long etaSeconds;

    @JsonPropertyDescription("When the trainer produced these numbers (RFC 3339).")
    private String updated;

    public Double getLossScale() {
        return lossScale;
    }

    public void setLossScale(Double lossScale) {
        this.lossScale = lossScale;
    }

    public Long getSkippedSteps() {
        return skippedSteps;
    }

    public void setSkippedSteps(Long skippedSteps) {
        this.skippedSteps = skippedSteps;
    }

    public Integer getEpoch() {
        return epoch;
    }

    public void setEpoch(Integer epoch) {
        this.epoch = epoch;
    }

    public Integer getTotalEpochs() {
        return totalEpochs;
    }

    public void setTotalEpochs(Integer totalEpochs) {
        this.totalEpochs = totalEpochs;
    }

    public Long getStep() {
        return step;
    }

    public void setStep(Long step) {
        this.step = step;
    }

    public Long getTotalSteps() {
        return totalSteps;
    }

    public void setTotalSteps(Long totalSteps) {
        this.totalSteps = totalSteps;
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

    public Double getBestEvalLoss() {
        return bestEvalLoss;
    }

    public void setBestEvalLoss(Double bestEvalLoss) {
        this.bestEvalLoss = bestEvalLoss;
    }

    public Integer getBestEpoch() {
        return bestEpoch;
    }

    public void setBestEpoch(Integer bestEpoch) {
        this.bestEpoch = bestEpoch;
    }

    public Double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(Double learningRate) {
        this.learningRate = learningRate;
    }

    public Double getGradNorm() {
        return gradNorm;
    }

    public void setGradNorm(Double gradNorm) {
        this.gradNorm = gradNorm;
    }

    public Double getTokensPerSecond() {
        return tokensPerSecond;
    }

    public void setTokensPerSecond(Double tokensPerSecond) {
        this.tokensPerSecond = tokensPerSecond;
    }

    public Long getEtaSeconds() {
        return etaSeconds;
    }

    public void setEtaSeconds(Long etaSeconds) {
        this.etaSeconds = etaSeconds;
    }

    public String getUpdated() {
        return updated;
    }

    public void setUpdated(String updated) {
        this.updated = updated;
    }

    public Double getRewardAccuracy() {
        return rewardAccuracy;
    }

    public void setRewardAccuracy(Double rewardAccuracy) {
        this.rewardAccuracy = rewardAccuracy;
    }

    public Double getRewardMargin() {
        return rewardMargin;
    }

    public void setRewardMargin(Double rewardMargin) {
        this.rewardMargin = rewardMargin;
    }
}
