package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Numeric type of the frozen base weights and activations; LoRA weights, optimizer state and the loss stay fp32. */
public enum Precision {
    @JsonProperty("bf16") BF16,
    @JsonProperty("fp16") FP16,
    @JsonProperty("fp32") FP32
}
