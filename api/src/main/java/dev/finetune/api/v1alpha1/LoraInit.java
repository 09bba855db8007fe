package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** PEFT's adapter initialisations; B starts at zero in both, so training starts from the base model. */
public enum LoraInit {
    /** A kaiming-uniform(a=sqrt(5)), PEFT's init_lora_weights=True. */
    @JsonProperty("default") DEFAULT,
    /** A ~ N(0, 1/r), PEFT's init_lora_weights="gaussian". */
    @JsonProperty("gaussian") GAUSSIAN
}
