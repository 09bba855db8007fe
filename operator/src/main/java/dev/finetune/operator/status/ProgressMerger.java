package dev.finetune.operator.status;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import java.util.ArrayList;
import java.util.List;

/** Copies rank 0's report into status. Pure. */
public final class ProgressMerger {

    /** status.history keeps the newest entries up to this many (each is ~200 bytes; etcd objects max out at 1.5 MiB). */
    public static final int MAX_HISTORY = 1000;

    private ProgressMerger() {
    }

    public static void merge(FineTuneJobStatus status, ProgressReport report) {
        if (report == null) {
            return;
        }
        if (report.progress() != null) {
            status.setProgress(report.progress());
        }
        if (!report.history().isEmpty() || status.getHistory() == null) {
            List<EpochRecord> history = report.history();
            if (history.size() > MAX_HISTORY) {
                history = history.subList(history.size() - MAX_HISTORY, history.size());
            }
            status.setHistory(new ArrayList<>(history));
        }
        CheckpointRef reported = report.lastCheckpoint();
        CheckpointRef known = status.getLastCheckpoint();
        if (reported != null && (known == null || reported.step() >= known.step())) {
            status.setLastCheckpoint(reported);
        }
        if (report.outputs() != null) {
            status.setOutputs(report.outputs());
        }
        if (report.downloads() != null) {
            status.setDownloads(new ArrayList<>(report.downloads()));
        }
    }

    /** The later of two reports: a higher attempt, or the same attempt with a higher sequence. */
    public static ProgressReport newer(ProgressReport a, ProgressReport b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.attempt() != b.attempt()) {
            return a.attempt() > b.attempt() ? a : b;
        }
        return a.sequence() >= b.sequence() ? a : b;
    }
}
