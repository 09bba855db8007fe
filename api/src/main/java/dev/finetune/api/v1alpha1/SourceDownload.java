package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Locale;

/**
 * How far the initializer is with one source: the bytes in the cache (verified or in flight) out of the bytes the
 * snapshot needs. Files already cached count as done from the start, so a second job on the same cache reports
 * {@code bytesDone == bytesTotal} at once.
 */
@JsonClassDescription("One source's download by the job's initializer (rank 0's pod): bytes in the cache out of the "
        + "bytes the snapshot needs; files already cached count as done.")
public record SourceDownload(
        @JsonPropertyDescription("What the source fills: model or dataset.")
        String input,
        @JsonPropertyDescription("The source as written in the spec (hf://... or oci://...).")
        String source,
        @JsonPropertyDescription("Bytes in the cache so far, verified or being downloaded.")
        long bytesDone,
        @JsonPropertyDescription("Bytes of the whole snapshot.")
        long bytesTotal,
        @JsonPropertyDescription("When the initializer measured these numbers (RFC 3339).")
        String updated) {

    /** Whether every byte of the snapshot is in the cache. */
    public boolean complete() {
        return bytesDone >= bytesTotal;
    }

    /** {@code model hf://Qwen/Qwen3-0.6B@main: 412 MB of 1.50 GB (27%)}: the log line and the condition message. */
    public String describe() {
        return describe(input + " " + source, bytesDone, bytesTotal);
    }

    /** {@code LABEL: 412 MB of 1.50 GB (27%)}. */
    public static String describe(String label, long done, long total) {
        long percent = total <= 0 ? 100 : Math.min(100, done * 100 / total);
        return String.format(Locale.ROOT, "%s: %s of %s (%d%%)", label, bytes(done), bytes(total), percent);
    }

    /** Decimal units, three significant digits: {@code 999 B}, {@code 1.50 kB}, {@code 412 MB}, {@code 12.3 GB}. */
    public static String bytes(long n) {
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
