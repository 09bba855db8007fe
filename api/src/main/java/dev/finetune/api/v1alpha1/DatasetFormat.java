package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How dataset records are shaped. */
public enum DatasetFormat {
    /** Detected from the first record's fields. */
    @JsonProperty("auto") AUTO,
    /** instruction / input / output (+ optional system, history). */
    @JsonProperty("alpaca") ALPACA,
    /** {"conversation":[{"system","input","output"},...]}. */
    @JsonProperty("conversation") CONVERSATION,
    /** {"conversations":[{"from":"human|gpt|system","value"}]}. */
    @JsonProperty("sharegpt") SHAREGPT,
    /** OpenAI style {"messages":[{"role","content"}]}. */
    @JsonProperty("messages") MESSAGES,
    /** prompt / chosen / rejected: supervised on chosen, rejected kept for preference training. */
    @JsonProperty("preference") PREFERENCE,
    /** {"text": ...}: plain continuation, every token learned. */
    @JsonProperty("text") TEXT
}
