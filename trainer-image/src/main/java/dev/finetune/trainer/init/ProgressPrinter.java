package dev.finetune.trainer.init;

import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.trainer.hub.TransferProgress;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * Prints a download's progress as log lines, at most one per interval (and always the first and the last):
 * {@code model hf://Qwen/Qwen3-0.6B@main: 120.4 MB of 1.50 GB (8%)}.
 */
public final class ProgressPrinter implements TransferProgress {

    private final PrintStream out;
    private final String label;
    private final long intervalNanos;
    private final LongSupplier clock;
    private long lastPrinted = Long.MIN_VALUE;
    private long lastDone = -1;

    public ProgressPrinter(PrintStream out, String label, long intervalMillis, LongSupplier nanoClock) {
        this.out = out;
        this.label = label;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.clock = nanoClock;
    }

    @Override
    public synchronized void update(long bytesDone, long bytesTotal) {
        long now = clock.getAsLong();
        boolean finished = bytesDone == bytesTotal;
        if (bytesDone == lastDone || (!finished && lastPrinted != Long.MIN_VALUE && now - lastPrinted < intervalNanos)) {
            return;
        }
        lastPrinted = now;
        lastDone = bytesDone;
        out.println(line(label, bytesDone, bytesTotal));
    }

    static String line(String label, long done, long total) {
        return SourceDownload.describe(label, done, total);
    }
}
