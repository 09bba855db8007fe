package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Easy-to-hard training: records ordered by difficulty, stages over growing prefixes. */
@JsonClassDescription("Easy-to-hard training: records ordered by length or a score field, each stage over a growing share.")
@ValidationRule(value = "self.stages[size(self.stages) - 1].upTo == 1.0",
        message = "the last curriculum stage must have upTo: 1 so that every record is trained on")
public class Curriculum {

    @Default("length")
    @JsonPropertyDescription("Difficulty key: length (tokens, shorter is easier) or score (scoreField, lower is easier).")
    private SelectionKey by = SelectionKey.LENGTH;

    @Default("difficulty")
    @Size(min = 1, max = 128)
    @JsonPropertyDescription("Numeric record field read when by=score.")
    private String scoreField = "difficulty";

    @Required
    @Size(min = 1, max = 10)
    @JsonPropertyDescription("Stages in order, upTo increasing; total epochs are the sum of the stages' epochs.")
    private List<CurriculumStage> stages;

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

    public List<CurriculumStage> getStages() {
        return stages;
    }

    public void setStages(List<CurriculumStage> stages) {
        this.stages = stages;
    }
}
