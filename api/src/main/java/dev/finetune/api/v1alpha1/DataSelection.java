package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A filter applied to the training records before splitting and batching. */
@JsonClassDescription("A filter applied to training records before batching: length bounds, deduplication, top-N.")
@ValidationRule(value = "!has(self.minTokens) || !has(self.maxTokens) || self.minTokens <= self.maxTokens",
        message = "selection.minTokens must not exceed selection.maxTokens")
public class DataSelection {

    @Min(1)
    @JsonPropertyDescription("Keep only the N best records by `by` (highest score, or shortest when by=length).")
    private Integer topN;

    @Default("score")
    @JsonPropertyDescription("What ranks records for topN: `score` (the scoreField, highest first) or `length` (tokens, shortest first).")
    private SelectionKey by = SelectionKey.SCORE;

    @Default("score")
    @Size(min = 1, max = 128)
    @JsonPropertyDescription("Numeric record field read when by=score.")
    private String scoreField = "score";

    @Min(1)
    @JsonPropertyDescription("Drop records shorter than this many tokens.")
    private Integer minTokens;

    @Min(1)
    @JsonPropertyDescription("Drop records longer than this many tokens (before truncation).")
    private Integer maxTokens;

    @Default("false")
    @JsonPropertyDescription("Drop exact duplicate records (same rendered text).")
    private boolean dedupe = false;

    public Integer getTopN() {
        return topN;
    }

    public void setTopN(Integer topN) {
        this.topN = topN;
    }

    public SelectionKey getBy() {
        return by;
    }

    public void setBy(SelectionKey by) {
        this.by = by;
    }

    public String getScoreField() {
        return scoreField;
    }

    public void setScoreField(String scoreField) {
        this.scoreField = scoreField;
    }

    public Integer getMinTokens() {
        return minTokens;
    }

    public void setMinTokens(Integer minTokens) {
        this.minTokens = minTokens;
    }

    public Integer getMaxTokens() {
        return maxTokens;
    }

    public void setMaxTokens(Integer maxTokens) {
        this.maxTokens = maxTokens;
    }

    public boolean isDedupe() {
        return dedupe;
    }

    public void setDedupe(boolean dedupe) {
        this.dedupe = dedupe;
    }
}
