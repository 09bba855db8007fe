package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the run produced, as paths relative to the run directory (spec.output.pvc.path). */
@JsonClassDescription("What the run produced, as directories or files relative to the run directory (spec.output.pvc.path).")
public class Outputs {

    @JsonPropertyDescription("The final PEFT adapter (adapter_config.json + adapter_model.safetensors).")
    private String adapter;

    @JsonPropertyDescription("The adapter with the lowest eval loss.")
    private String bestAdapter;

    @JsonPropertyDescription("The merged model (a Hugging Face model directory), when output.merge is true.")
    private String merged;

    @JsonPropertyDescription("manifest.json: base model, dataset hash, hyperparameters, metrics history.")
    private String manifest;

    @JsonPropertyDescription("The training report with loss and perplexity curves.")
    private String report;

    @JsonPropertyDescription("The pushed adapter artifact, REGISTRY/REPOSITORY@sha256:DIGEST, when output.push is set.")
    private String pushedAdapter;

    @JsonPropertyDescription("The pushed merged model, REGISTRY/REPOSITORY@sha256:DIGEST, when output.push.merged is set.")
    private String pushedMerged;

    public String getPushedAdapter() {
        return pushedAdapter;
    }

    public void setPushedAdapter(String pushedAdapter) {
        this.pushedAdapter = pushedAdapter;
    }

    public String getAdapter() {
        return adapter;
    }

    public void setAdapter(String adapter) {
        this.adapter = adapter;
    }

    public String getBestAdapter() {
        return bestAdapter;
    }

    public void setBestAdapter(String bestAdapter) {
        this.bestAdapter = bestAdapter;
    }

    public String getMerged() {
        return merged;
    }

    public void setMerged(String merged) {
        this.merged = merged;
    }

    public String getManifest() {
        return manifest;
    }

    public void setManifest(String manifest) {
        this.manifest = manifest;
    }

    public String getReport() {
        return report;
    }

    public void setReport(String report) {
        this.report = report;
    }

    public String getPushedMerged() {
        return pushedMerged;
    }

    public void setPushedMerged(String pushedMerged) {
        this.pushedMerged = pushedMerged;
    }
}
