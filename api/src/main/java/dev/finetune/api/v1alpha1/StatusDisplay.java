package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Short strings for the printer columns. Derived from the rest of status by the operator on every
 * status write, because JSONPath in printer columns cannot format "3/10" or round a float.
 */
@JsonClassDescription("Formatted values for kubectl's columns, derived from progress; read progress for exact numbers.")
public class StatusDisplay {

    @JsonPropertyDescription("GPUs in the gang, e.g. 8 or 2x8 (workers x GPUs per worker); cpu for CPU jobs.")
    private String gpus;

    @JsonPropertyDescription("Epochs completed of total, e.g. 3/10.")
    private String epoch;

    @JsonPropertyDescription("Optimizer steps completed of total, e.g. 1200/4000.")
    private String step;

    @JsonPropertyDescription("Latest eval loss, 4 significant digits.")
    private String evalLoss;

    @JsonPropertyDescription("Latest perplexity, 4 significant digits.")
    private String perplexity;

    @JsonPropertyDescription("DPO/ORPO: latest eval reward accuracy, 4 significant digits.")
    private String rewardAccuracy;

    @JsonPropertyDescription("Estimated time left, e.g. 1h12m.")
    private String eta;

    public String getGpus() {
        return gpus;
    }

    public void setGpus(String gpus) {
        this.gpus = gpus;
    }

    public String getEpoch() {
        return epoch;
    }

    public void setEpoch(String epoch) {
        this.epoch = epoch;
    }

    public String getStep() {
        return step;
    }

    public void setStep(String step) {
        this.step = step;
    }

    public String getEvalLoss() {
        return evalLoss;
    }

    public void setEvalLoss(String evalLoss) {
        this.evalLoss = evalLoss;
    }

    public String getPerplexity() {
        return perplexity;
    }

    public void setPerplexity(String perplexity) {
        this.perplexity = perplexity;
    }

    public String getEta() {
        return eta;
    }

    public void setEta(String eta) {
        this.eta = eta;
    }

    public String getRewardAccuracy() {
        return rewardAccuracy;
    }

    public void setRewardAccuracy(String rewardAccuracy) {
        this.rewardAccuracy = rewardAccuracy;
    }
}
