package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

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

    /** The concrete modules {@code modules} name: all-linear (or null) stands for all seven. */
    public static Set<TargetModule> expand(Collection<TargetModule> modules) {
        if (modules == null || modules.contains(ALL_LINEAR)) {
            return EnumSet.range(Q_PROJ, DOWN_PROJ);
        }
        return EnumSet.copyOf(modules);
    }
}
