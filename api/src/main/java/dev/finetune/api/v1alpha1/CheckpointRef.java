package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A resumable checkpoint: a restart continues from here. */
@JsonClassDescription("A resumable checkpoint (adapter, optimizer, scheduler, data position, RNG): restarts continue from it.")
public record CheckpointRef(
        @JsonPropertyDescription("Epochs completed when it was taken.")
        int epoch,
        @JsonPropertyDescription("Optimizer steps completed when it was taken.")
        long step,
        @JsonPropertyDescription("Directory, relative to the run directory (spec.output.pvc.path).")
        String path,
        @JsonPropertyDescription("When it was written (RFC 3339).")
        String time) {
}
