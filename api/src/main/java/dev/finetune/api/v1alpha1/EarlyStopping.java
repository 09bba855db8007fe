package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Stop when eval loss stops improving; the best adapter is kept either way. */
@JsonClassDescription("Stop when eval loss has not improved by minDelta for patience evaluations; the best adapter is kept.")
public class EarlyStopping {

    @Default("2")
    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Evaluations without improvement before stopping.")
    private int patience = 2;

    @Default("0.0")
    @Min(0)
    @JsonPropertyDescription("Smallest decrease in eval loss that counts as an improvement.")
    private double minDelta = 0.0;

    public int getPatience() {
        return patience;
    }

    public void setPatience(int patience) {
        this.patience = patience;
    }

    public double getMinDelta() {
        return minDelta;
    }

    public void setMinDelta(double minDelta) {
        this.minDelta = minDelta;
    }
}
