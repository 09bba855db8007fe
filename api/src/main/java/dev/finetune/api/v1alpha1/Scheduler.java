package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Learning-rate schedule after warmup. */
public enum Scheduler {
    /** Half-cosine from the peak down to zero at the last step (HF get_cosine_schedule_with_warmup). */
    @JsonProperty("cosine") COSINE,
    /** Straight line from the peak down to zero at the last step. */
    @JsonProperty("linear") LINEAR,
    /** The peak learning rate throughout. */
    @JsonProperty("constant") CONSTANT
}
