package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Where adapters, checkpoints, the report and the manifest are written. */
@JsonClassDescription("Where adapters, checkpoints, the report and the manifest are written. Nothing there is ever "
        + "overwritten by another run: each FineTuneJob owns its path.")
@ValidationRule(value = "!has(self.push) || !self.push.merged || self.merge",
        message = "output.push.merged pushes the merged model: set output.merge: true (or drop push.merged)")
public class OutputSpec {

    @Required
    @JsonPropertyDescription("The run directory (created if missing); mounted read-write.")
    private PvcPath pvc;

    @Default("false")
    @JsonPropertyDescription("Also write the base model with the final adapter merged in, as a Hugging Face model directory.")
    private boolean merge = false;

    @Default("2")
    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Resumable checkpoints kept (newest first); adapters of every epoch and the best one are always kept.")
    private int keepCheckpoints = 2;

    @Default("true")
    @JsonPropertyDescription("Write a PEFT adapter at the end of every epoch (epoch-N/), besides best/ and final/.")
    private boolean saveEveryEpoch = true;

    @JsonPropertyDescription("Also publish the final adapter as an OCI artifact; its digest goes to status.outputs.")
    private PushSpec push;

    public PushSpec getPush() {
        return push;
    }

    public void setPush(PushSpec push) {
        this.push = push;
    }

    public PvcPath getPvc() {
        return pvc;
    }

    public void setPvc(PvcPath pvc) {
        this.pvc = pvc;
    }

    public boolean isMerge() {
        return merge;
    }

    public void setMerge(boolean merge) {
        this.merge = merge;
    }

    public int getKeepCheckpoints() {
        return keepCheckpoints;
    }

    public void setKeepCheckpoints(int keepCheckpoints) {
        this.keepCheckpoints = keepCheckpoints;
    }

    public boolean isSaveEveryEpoch() {
        return saveEveryEpoch;
    }

    public void setSaveEveryEpoch(boolean saveEveryEpoch) {
        this.saveEveryEpoch = saveEveryEpoch;
    }
}
