package dev.finetune.trainer.data.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.trainer.data.SourceLocation;

/** One JSON object as read from a dataset file, with where it was. */
public record RawRecord(JsonNode json, SourceLocation location) {
}
