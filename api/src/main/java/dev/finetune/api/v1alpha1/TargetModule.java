package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Linear layers of a Llama/Qwen/Mistral decoder layer that can carry a LoRA adapter. */
public enum TargetModule {
    @JsonProperty("q_proj") Q_PROJ,
    @JsonProperty("k_proj") K_PROJ,
    @JsonProperty("v_proj") V_PROJ,
    @JsonProperty("o_proj") O_PROJ,
    @JsonProperty("gate_proj") GATE_PROJ,
    @JsonProperty("up_proj") UP_PROJ,
    @JsonProperty("down_proj") DOWN_PROJ,
    /** Every linear layer of every decoder layer (all seven above); never the lm head. */
    @JsonProperty("all-linear") ALL_LINEAR;

    /** The HF module name, e.g. {@code q_proj}. */
    public String moduleName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
