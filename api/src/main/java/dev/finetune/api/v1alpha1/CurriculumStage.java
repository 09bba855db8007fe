package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** One stage of a curriculum: the easiest {@code upTo} fraction of the data, for some epochs. */
@JsonClassDescription("One curriculum stage: trains on the easiest upTo fraction of the records (cumulative), for epochs epochs.")
public class CurriculumStage {

    @Required
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Stage name, shown in status and the report (e.g. easy, medium, hard).")
    private String name;

    @Required
    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("Cumulative fraction of records, easiest first, that this stage trains on; the last stage must be 1.")
    private Double upTo;

    @Default("1")
    @Min(1)
    @Max(1000)
    @JsonPropertyDescription("Epochs over this stage's records.")
    private int epochs = 1;

    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("Peak learning rate for this stage. Default: training.learningRate.")
    private Double learningRate;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public Double getUpTo() {
        return upTo;
    }

    public void setUpTo(Double upTo) {
        this.upTo = upTo;
    }

    public int getEpochs() {
        return epochs;
    }

    public void setEpochs(int epochs) {
        this.epochs = epochs;
    }

    public Double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(Double learningRate) {
        this.learningRate = learningRate;
    }
}
