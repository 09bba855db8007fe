package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Odds Ratio Preference Optimization settings. */
@JsonClassDescription("ORPO settings (training.method: orpo): the SFT loss on the chosen reply plus beta times the "
        + "odds-ratio loss between chosen and rejected; no reference model.")
public class OrpoSpec {

    @Default("0.1")
    @Min(value = 0, inclusive = false)
    @Max(100)
    @JsonPropertyDescription("Weight of the odds-ratio term (lambda in the ORPO paper). Default 0.1.")
    private double beta = 0.1;

    public double getBeta() {
        return beta;
    }

    public void setBeta(double beta) {
        this.beta = beta;
    }
}
