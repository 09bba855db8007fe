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

    /** The progress of the next source, {@code input} ("model", "dataset") from {@code source} (as in the spec). */
    public synchronized TransferProgress source(String input, String source) {
        int index = downloads.size();
        downloads.add(new SourceDownload(input, source, 0, 0, clock.instant().toString()));
        return (done, total) -> update(index, done, total);
    }

    private synchronized void update(int index, long done, long total) {
        SourceDownload before = downloads.get(index);
        boolean first = before.bytesTotal() == 0 && before.bytesDone() == 0;
        boolean changed = done != before.bytesDone() || total != before.bytesTotal();
        SourceDownload now = new SourceDownload(before.input(), before.source(), done, total, clock.instant().toString());
        downloads.set(index, now);
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
