package dev.finetune.trainer.lora;

import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.LoraSpec;
import dev.finetune.api.v1alpha1.TargetModule;
import java.util.List;
import java.util.Set;

/**
 * LoRA hyperparameters, PEFT's meaning, in the API's types: {@code scaling = alpha / r} (or
 * {@code alpha / sqrt(r)} with rsLoRA, {@link LoraSpec#scaling(double, int, boolean)}); dropout on the
 * adapter input only.
 *
 * @param targetModules the linear layers adapted, all-linear expanded (never lm_head, as in PEFT)
 * @param bias PEFT's bias mode: none; all trains every bias of the model; lora_only the biases of the
 *     adapted layers (biases train in fp32 and are saved in the adapter)
 * @param useDora weight-decomposed LoRA ({@link DoraVariant})
 * @param init how A starts: kaiming-uniform(a=sqrt(5)), or gaussian N(0, (1/r)^2); B starts at zero
 */
public record LoraSettings(int rank, double alpha, double dropout, Set<TargetModule> targetModules, LoraBias bias,
        boolean useRslora, boolean useDora, LoraInit init) {

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
        targetModules = Set.copyOf(TargetModule.expand(targetModules));
        bias = bias == null ? LoraBias.NONE : bias;
        init = init == null ? LoraInit.DEFAULT : init;
    }

    /** The spec's {@code lora} section. */
    public static LoraSettings of(LoraSpec spec) {
        return new LoraSettings(spec.getRank(), spec.getAlpha(), spec.getDropout(), Set.copyOf(spec.resolvedTargetModules()),
                spec.getBias(), spec.isUseRslora(), spec.isUseDora(), spec.getInitWeights());
    }

    /** Plain LoRA without dropout or trained biases. */
    public static LoraSettings of(int rank, double alpha, TargetModule... targets) {
        return new LoraSettings(rank, alpha, 0.0, Set.copyOf(List.of(targets)), LoraBias.NONE, false, false, LoraInit.DEFAULT);
    }

    public double scaling() {
        return LoraSpec.scaling(alpha, rank, useRslora);
    }

    /** The HF names of the adapted modules (q_proj ... down_proj), sorted. */
    public List<String> moduleNames() {
        return targetModules.stream().map(TargetModule::moduleName).sorted().toList();
    }
}
