package dev.finetune.trainer.init;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.trainer.hub.TransferProgress;
import dev.finetune.trainer.progress.ProgressSink;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the initializer's byte counts into {@link ProgressReport}s for the operator: one report holds every source
 * started so far (finished ones stay in it), and reports go out at most once per interval, plus each source's first
 * and last count. The sink coalesces further, so a slow API server never slows the download.
 */
public final class DownloadReporter implements AutoCloseable {

    private final ProgressSink sink;
    private final int attempt;
    private final long intervalMillis;
    private final Clock clock;
    private final List<SourceDownload> downloads = new ArrayList<>();
    private long sequence;
    private long lastSent;

    public DownloadReporter(ProgressSink sink, int attempt, long intervalMillis, Clock clock) {
        this.sink = sink;
        this.attempt = attempt;
        this.intervalMillis = intervalMillis;
        this.clock = clock;
    }

    /**
     * The progress of the next source, {@code input} ("model", "dataset") from {@code source} (as in the spec). The
     * source joins the reports with its first count, so one that fails before it knows its size is not listed.
     */
    public TransferProgress source(String input, String source) {
        int[] index = {-1};
        return (done, total) -> update(index, input, source, done, total);
    }

    private synchronized void update(int[] index, String input, String source, long done, long total) {
        boolean first = index[0] < 0;
        if (first) {
            index[0] = downloads.size();
            downloads.add(null);
        }
        SourceDownload before = downloads.get(index[0]);
        boolean changed = first || done != before.bytesDone() || total != before.bytesTotal();
        SourceDownload now = new SourceDownload(input, source, done, total, clock.instant().toString());
        downloads.set(index[0], now);
        long millis = clock.millis();
        if (first || (now.complete() && changed) || millis - lastSent >= intervalMillis) {
            lastSent = millis;
            sink.publish(ProgressReport.downloading(++sequence, attempt, downloads));
        }
    }

    /** Sends the latest counts (a failed download's partial ones too) and waits for the sink to deliver them. */
    @Override
    public void close() {
        synchronized (this) {
            if (!downloads.isEmpty()) {
                sink.publish(ProgressReport.downloading(++sequence, attempt, downloads));
            }
        }
        sink.close();
    }
}
