package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A resumable checkpoint: a restart continues from here. */
@JsonClassDescription("A resumable checkpoint (adapter, optimizer, scheduler, data position, RNG): restarts continue from it.")
public class CheckpointRef {

    @JsonPropertyDescription("Epochs completed when it was taken.")
    private int epoch;

    @JsonPropertyDescription("Optimizer steps completed when it was taken.")
    private long step;

    @JsonPropertyDescription("Directory, relative to the run directory (spec.output.pvc.path).")
    private String path;

    @JsonPropertyDescription("When it was written (RFC 3339).")
    private String time;

    public CheckpointRef() {
    }

    public CheckpointRef(int epoch, long step, String path) {
        this.epoch = epoch;
        this.step = step;
        this.path = path;
    }

    public int getEpoch() {
        return epoch;
    }

    public void setEpoch(int epoch) {
        this.epoch = epoch;
    }

    public long getStep() {
        return step;
    }

    public void setStep(long step) {
        this.step = step;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public String getTime() {
        return time;
    }

    public void setTime(String time) {
        this.time = time;
    }
}
