package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What orders records for selection and curriculum: token length or a numeric field of the record. */
public enum SelectionKey {
    @JsonProperty("length") LENGTH,
    @JsonProperty("score") SCORE
}
