package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator and the trainer know about the run. Written by the operator only. */
@JsonClassDescription("Observed state. Conditions follow kstatus (Ready, Reconciling, Stalled) plus Validated, "
        + "WorkersReady, Training, Checkpointed, Suspended, Succeeded, Failed.")
public class FineTuneJobStatus {

    @JsonPropertyDescription("Pending, Queued (Kueue holds the workers), Initializing, Training, Succeeded, Failed or Suspended.")
    private Phase phase;

    @JsonPropertyDescription("Latest observations, one per type.")
    private List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("When the first attempt's workers were created (RFC 3339).")
    private String startTime;

    @JsonPropertyDescription("When the job succeeded or failed (RFC 3339).")
    private String completionTime;

    @JsonPropertyDescription("Gang restarts so far (counted against spec.backoffLimit).")
    private int restarts;

    @JsonPropertyDescription("Current attempt, 1-based; each gang restart starts a new attempt.")
    private int attempt;

    @JsonPropertyDescription("The finetune.dev/restart-requested-at annotation the operator last answered: a restart "
            + "(or, for a job that has finished, is suspended or has no workers, an Event saying why not). A new value "
            + "of the annotation restarts the running attempt once.")
    private String lastRestartRequest;

    @JsonPropertyDescription("The trainer's latest numbers.")
    private Progress progress;

    @JsonPropertyDescription("One entry per evaluation, oldest first.")
    private List<EpochRecord> history = new ArrayList<>();

    @JsonPropertyDescription("The checkpoint a restart would resume from.")
    private CheckpointRef lastCheckpoint;

    @JsonPropertyDescription("Adapters, merged model, report and manifest written so far.")
    private Outputs outputs;

    @JsonPropertyDescription("The sources the initializer of the latest attempt downloaded (or is downloading): bytes "
            + "done / total per source. Absent for jobs without model.source or dataset.source.")
    private List<SourceDownload> downloads;

    @JsonPropertyDescription("Formatted values for kubectl's columns.")
    private StatusDisplay display;

    public Phase getPhase() {
        return phase;
    }

    public void setPhase(Phase phase) {
        this.phase = phase;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public String getStartTime() {
        return startTime;
    }

    public void setStartTime(String startTime) {
        this.startTime = startTime;
    }

    public String getCompletionTime() {
        return completionTime;
    }

    public void setCompletionTime(String completionTime) {
        this.completionTime = completionTime;
    }

    public int getRestarts() {
        return restarts;
    }

    public void setRestarts(int restarts) {
        this.restarts = restarts;
    }

    public int getAttempt() {
        return attempt;
    }

    public void setAttempt(int attempt) {
        this.attempt = attempt;
    }

    public String getLastRestartRequest() {
        return lastRestartRequest;
    }

    public void setLastRestartRequest(String lastRestartRequest) {
        this.lastRestartRequest = lastRestartRequest;
    }

    public Progress getProgress() {
        return progress;
    }

    public void setProgress(Progress progress) {
        this.progress = progress;
    }

    public List<EpochRecord> getHistory() {
        return history;
    }

    public void setHistory(List<EpochRecord> history) {
        this.history = history;
    }

    public CheckpointRef getLastCheckpoint() {
        return lastCheckpoint;
    }

    public void setLastCheckpoint(CheckpointRef lastCheckpoint) {
        this.lastCheckpoint = lastCheckpoint;
    }

    public Outputs getOutputs() {
        return outputs;
    }

    public void setOutputs(Outputs outputs) {
        this.outputs = outputs;
    }

    public List<SourceDownload> getDownloads() {
        return downloads;
    }

    public void setDownloads(List<SourceDownload> downloads) {
        this.downloads = downloads;
    }

    public StatusDisplay getDisplay() {
        return display;
    }

    public void setDisplay(StatusDisplay display) {
        this.display = display;
    }
}
