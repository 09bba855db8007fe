package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One evaluation in the job's history. */
@JsonClassDescription("One evaluation: the end of an epoch, or a step-based evaluation within one.")
public record EpochRecord(
        @JsonPropertyDescription("Epoch the evaluation belongs to (1-based).")
        int epoch,
        @JsonPropertyDescription("Optimizer step at which it was taken.")
        long step,
        @JsonPropertyDescription("Curriculum stage, if any.")
        String stage,
        @JsonPropertyDescription("Mean training loss per label token over the epoch (or since the previous evaluation).")
        Double trainLoss,
        @JsonPropertyDescription("Token-weighted eval loss.")
        Double evalLoss,
        @JsonPropertyDescription("exp(evalLoss).")
        Double perplexity,
        @JsonPropertyDescription("Training throughput over the epoch, tokens per second.")
        Double tokensPerSecond,
        @JsonPropertyDescription("When it was taken (RFC 3339).")
        String time) {
}
