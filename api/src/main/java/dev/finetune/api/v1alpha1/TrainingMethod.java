package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What the loss optimises. */
public enum TrainingMethod {
    /** Supervised fine-tuning: next-token cross-entropy on the learned tokens. */
    @JsonProperty("sft") SFT,
    /** Direct Preference Optimization on prompt/chosen/rejected pairs; the reference is the base model (adapter off). */
    @JsonProperty("dpo") DPO,
    /** Odds Ratio Preference Optimization: SFT loss on chosen plus an odds-ratio term; no reference model. */
    @JsonProperty("orpo") ORPO
}
