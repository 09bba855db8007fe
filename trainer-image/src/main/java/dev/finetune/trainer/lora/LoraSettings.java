package dev.finetune.trainer.lora;

import java.util.List;
import java.util.Set;

/**
 * LoRA hyperparameters, PEFT's meaning: {@code scaling = alpha / r} (or {@code alpha / sqrt(r)} with
 * rsLoRA); dropout on the adapter input only.
 *
 * @param targetModules short module names (q_proj ... down_proj); {@link #ALL_LINEAR} for every
 *     linear layer of the decoder (never lm_head, as in PEFT)
 * @param bias PEFT's bias mode: "none"; "all" trains every bias of the model; "lora_only" the biases of
 *     the adapted layers (biases train in fp32 and are saved in the adapter)
 * @param useDora weight-decomposed LoRA (DoRA): a trainable per-output-row magnitude on top of LoRA
 * @param gaussianInit A ~ N(0, (1/r)^2) instead of kaiming-uniform(a=sqrt(5))
 */
public record LoraSettings(int rank, double alpha, double dropout, List<String> targetModules, String bias,
        boolean useRslora, boolean useDora, boolean gaussianInit) {

    public static final String ALL_LINEAR = "all-linear";
    public static final List<String> BIAS_MODES = List.of("none", "all", "lora_only");
    public static final List<String> LINEAR_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraSettings {
        if (rank <= 0) {
            throw new IllegalArgumentException("lora.rank must be positive, got " + rank);
        }
        if (alpha <= 0) {
            throw new IllegalArgumentException("lora.alpha must be positive, got " + alpha);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("lora.dropout must be in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("lora.targetModules must name at least one module (or all-linear)");
        }
        for (String m : targetModules) {
            if (!m.equals(ALL_LINEAR) && !LINEAR_MODULES.contains(m)) {
                throw new IllegalArgumentException("lora.targetModules: unknown module \"" + m + "\"; use any of "
                        + LINEAR_MODULES + " or " + ALL_LINEAR);
            }
        }
        if (!BIAS_MODES.contains(bias)) {
            throw new IllegalArgumentException("lora.bias must be one of " + BIAS_MODES + ", not \"" + bias + "\"");
        }
        targetModules = List.copyOf(targetModules);
    }

    public static LoraSettings of(int rank, double alpha, List<String> targets) {
        return new LoraSettings(rank, alpha, 0.0, targets, "none", false, false, false);
    }

    public double scaling() {
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** The concrete module names adapted. */
    public Set<String> resolvedTargets() {
        return targetModules.contains(ALL_LINEAR) ? Set.copyOf(LINEAR_MODULES) : Set.copyOf(targetModules);
    }
}
