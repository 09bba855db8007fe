package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** Direct Preference Optimization settings; the reference policy is the base model with the adapter disabled. */
@JsonClassDescription("DPO settings (training.method: dpo). The reference policy is the base model with the LoRA adapter "
        + "disabled, so no second copy of the weights is loaded.")
@ValidationRule(value = "self.labelSmoothing < 0.5",
        message = "training.dpo.labelSmoothing must be below 0.5 (at 0.5 chosen and rejected are equally likely flipped); use e.g. 0.1")
@ValidationRule(value = "self.labelSmoothing == 0.0 || self.lossType == 'sigmoid'",
        message = "training.dpo.labelSmoothing applies only to training.dpo.lossType: sigmoid; set it to 0 or use sigmoid")
public class DpoSpec {

    @Default("0.1")
    @Min(value = 0, inclusive = false)
    @Max(100)
    @JsonPropertyDescription("Strength of the pull toward the reference policy; rewards are beta times the log-prob "
            + "difference to the reference. Default 0.1.")
    private double beta = 0.1;

    @Default("sigmoid")
    @JsonPropertyDescription("Loss on the reward margin: sigmoid (DPO), ipo or hinge.")
    private DpoLossType lossType = DpoLossType.SIGMOID;

    @Default("0.0")
    @Min(0)
    @Max(0.5)
    @JsonPropertyDescription("Assumed fraction of flipped preference labels (conservative DPO); sigmoid loss only.")
    private double labelSmoothing = 0.0;

    @Default("false")
    @JsonPropertyDescription("Keep each reply's reference log-prob after its first forward with the adapter disabled "
            + "(the base model never changes): later epochs and evaluations skip that forward, for host memory holding "
            + "the replies' token ids.")
    private boolean precomputeReferenceLogProbs = false;

    public double getBeta() {
        return beta;
    }

    public void setBeta(double beta) {
        this.beta = beta;
    }

    public DpoLossType getLossType() {
        return lossType;
    }

    public void setLossType(DpoLossType lossType) {
        this.lossType = lossType;
    }

    public double getLabelSmoothing() {
        return labelSmoothing;
    }

    public void setLabelSmoothing(double labelSmoothing) {
        this.labelSmoothing = labelSmoothing;
    }

    public boolean isPrecomputeReferenceLogProbs() {
        return precomputeReferenceLogProbs;
    }

    public void setPrecomputeReferenceLogProbs(boolean precomputeReferenceLogProbs) {
        this.precomputeReferenceLogProbs = precomputeReferenceLogProbs;
    }
}
