package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** PEFT's bias modes: which bias vectors are trained alongside the adapters. */
public enum LoraBias {
    @JsonProperty("none") NONE,
    @JsonProperty("all") ALL,
    @JsonProperty("lora_only") LORA_ONLY
}
