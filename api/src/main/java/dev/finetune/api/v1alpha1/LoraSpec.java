package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The LoRA adapters: where they sit and how large they are. Saved in HF PEFT's format. */
@JsonClassDescription("The LoRA adapters: where they sit and how large they are. Saved in HF PEFT's format "
        + "(adapter_config.json + adapter_model.safetensors), loadable by PEFT and vLLM.")
@ValidationRule(value = "!('all-linear' in self.targetModules) || size(self.targetModules) == 1",
        message = "lora.targetModules: 'all-linear' already covers every linear layer; list it alone")
@ValidationRule(value = "!self.useDora || self.bias == 'none'",
        message = "lora.useDora needs lora.bias: none (DoRA with trained biases is neither loadable by vLLM nor mergeable exactly)")
public class LoraSpec {

    @Default("8")
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Adapter rank r: A is [r, in], B is [out, r]. vLLM serves ranks up to --max-lora-rank (default 16).")
    private int rank = 8;

    @Default("16")
    @Min(value = 0, inclusive = false)
    @Max(4096)
    @JsonPropertyDescription("lora_alpha: the update is scaled by alpha/r (alpha/sqrt(r) with useRslora).")
    private double alpha = 16;

    @Default("0.05")
    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Dropout on the adapter's input during training.")
    private double dropout = 0.05;

    @Default("[\"all-linear\"]")
    @Size(min = 1, max = 8)
    @JsonPropertyDescription("Linear layers that get adapters: any of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
            + "down_proj, or all-linear alone. Default all-linear (PEFT's own default, q_proj+v_proj, learns markedly less).")
    private List<TargetModule> targetModules = new ArrayList<>(List.of(TargetModule.ALL_LINEAR));

    @Default("none")
    @JsonPropertyDescription("Which biases are trained: none (vLLM-compatible), all, or lora_only.")
    private LoraBias bias = LoraBias.NONE;

    @Default("false")
    @JsonPropertyDescription("Rank-stabilised LoRA: scale by alpha/sqrt(r) instead of alpha/r.")
    private boolean useRslora = false;

    @Default("false")
    @JsonPropertyDescription("Weight-decomposed LoRA (DoRA): adds a trained magnitude vector per module. PEFT loads it; "
            + "vLLM does not serve DoRA adapters (set output.merge to also get a merged model).")
    private boolean useDora = false;

    @Default("default")
    @JsonPropertyDescription("Initialisation of A: default (kaiming-uniform, as PEFT) or gaussian.")
    private LoraInit initWeights = LoraInit.DEFAULT;

    /** The concrete module names, with all-linear expanded. */
    public Set<TargetModule> resolvedTargetModules() {
        return TargetModule.expand(targetModules);
    }

    /** The factor the adapter's output is multiplied by. */
    public double scaling() {
        return scaling(alpha, rank, useRslora);
    }

    /** PEFT's scaling: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public static double scaling(double alpha, int rank, boolean useRslora) {
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    public int getRank() {
        return rank;
    }

    public void setRank(int rank) {
        this.rank = rank;
    }

    public double getAlpha() {
        return alpha;
    }

    public void setAlpha(double alpha) {
        this.alpha = alpha;
    }

    public double getDropout() {
        return dropout;
    }

    public void setDropout(double dropout) {
        this.dropout = dropout;
    }

    public List<TargetModule> getTargetModules() {
        return targetModules;
    }

    public void setTargetModules(List<TargetModule> targetModules) {
        this.targetModules = targetModules;
    }

    public LoraBias getBias() {
        return bias;
    }

    public void setBias(LoraBias bias) {
        this.bias = bias;
    }

    public boolean isUseRslora() {
        return useRslora;
    }

    public void setUseRslora(boolean useRslora) {
        this.useRslora = useRslora;
    }

    public boolean isUseDora() {
        return useDora;
    }

    public void setUseDora(boolean useDora) {
        this.useDora = useDora;
    }

    public LoraInit getInitWeights() {
        return initWeights;
    }

    public void setInitWeights(LoraInit initWeights) {
        this.initWeights = initWeights;
    }
}
