package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which tokens carry a label (all others are -100 and do not count in the loss). */
public enum TrainOn {
    /** Every assistant turn of every conversation; system, user and template scaffolding masked. */
    @JsonProperty("allAssistantTurns") ALL_ASSISTANT_TURNS,
    /** Only the last assistant turn of each conversation. */
    @JsonProperty("lastAssistantTurn") LAST_ASSISTANT_TURN,
    /** Prompt and completion alike (padding still masked). */
    @JsonProperty("promptAndCompletion") PROMPT_AND_COMPLETION
}
