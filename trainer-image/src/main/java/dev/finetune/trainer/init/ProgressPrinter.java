package dev.finetune.trainer.init;

import dev.finetune.trainer.hub.TransferProgress;
import java.io.PrintStream;
import java.util.Locale;
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
        long percent = total == 0 ? 100 : done * 100 / total;
        return String.format(Locale.ROOT, "%s: %s of %s (%d%%)", label, bytes(done), bytes(total), percent);
    }

    static String bytes(long n) {
        if (n < 1_000) {
            return n + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double value = n;
        int unit = -1;
        while (value >= 1_000 && unit < units.length - 1) {
            value /= 1_000;
            unit++;
        }
        return String.format(Locale.ROOT, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    }
}
