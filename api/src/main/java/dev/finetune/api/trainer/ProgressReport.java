package dev.finetune.api.trainer;

import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.SourceDownload;
import java.util.List;

/**
 * What rank 0 reports, in full, each time it has news (each logged step, each eval, each checkpoint,
 * the end). Each report replaces the previous one, so a lost write loses nothing but latency, and an
 * operator that restarts reads the whole state from the latest report.
 *
 * @param sequence increases with each report of an attempt, so a reader can ignore stale ones
 * @param attempt the attempt (gang restart count + 1) that wrote it; reports of older attempts are stale
 * @param history one record per evaluation since the run began (resumed runs carry it over from the checkpoint)
 * @param memory the trainer's estimate of a worker's peak memory, once the model is loaded; null before
 * @param warnings what the trainer worked around (a corrupt checkpoint skipped); null when nothing
 * @param downloads the initializer's sources, in the order it fetches them (model, then dataset); only in the
 *     initializer's reports (key {@link TrainerConfigs#INITIALIZER_PROGRESS_KEY}), null in the trainer's
 */
public record ProgressReport(
        int schemaVersion,
        long sequence,
        int attempt,
        TrainerState state,
        Progress progress,
        List<EpochRecord> history,
        CheckpointRef lastCheckpoint,
        Outputs outputs,
        Failure failure,
        MemoryEstimate memory,
        List<TrainerWarning> warnings,
        List<SourceDownload> downloads) {

    public static final int SCHEMA_VERSION = 1;
    /** The kubelet keeps at most this many bytes of a termination message. */
    public static final int TERMINATION_MESSAGE_LIMIT = 4096;

    public ProgressReport {
        history = history == null ? List.of() : List.copyOf(history);
        warnings = warnings == null || warnings.isEmpty() ? null : List.copyOf(warnings);
        downloads = downloads == null || downloads.isEmpty() ? null : List.copyOf(downloads);
    }

    /** A trainer's report: no downloads. */
    public ProgressReport(int schemaVersion, long sequence, int attempt, TrainerState state, Progress progress,
            List<EpochRecord> history, CheckpointRef lastCheckpoint, Outputs outputs, Failure failure, MemoryEstimate memory,
            List<TrainerWarning> warnings) {
        this(schemaVersion, sequence, attempt, state, progress, history, lastCheckpoint, outputs, failure, memory, warnings, null);
    }

    /** An initializer's report: how far each source's download is, nothing else. */
    public static ProgressReport downloading(long sequence, int attempt, List<SourceDownload> downloads) {
        return new ProgressReport(SCHEMA_VERSION, sequence, attempt, TrainerState.INITIALIZING, null, List.of(), null, null,
                null, null, null, downloads);
    }

    /** A report without a memory estimate or warnings. */
    public ProgressReport(int schemaVersion, long sequence, int attempt, TrainerState state, Progress progress,
            List<EpochRecord> history, CheckpointRef lastCheckpoint, Outputs outputs, Failure failure) {
        this(schemaVersion, sequence, attempt, state, progress, history, lastCheckpoint, outputs, failure, null, null, null);
    }

    /** The warnings, empty when there are none. */
    public List<TrainerWarning> warningList() {
        return warnings == null ? List.of() : warnings;
    }

    /** The downloads, empty when there are none. */
    public List<SourceDownload> downloadList() {
        return downloads == null ? List.of() : downloads;
    }

    /** The report without its history: small enough for a pod's termination message. */
    public ProgressReport withoutHistory() {
        return new ProgressReport(schemaVersion, sequence, attempt, state, progress, List.of(), lastCheckpoint, outputs, failure,
                memory, warnings, downloads);
    }
}
