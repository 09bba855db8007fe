package dev.finetune.trainer.data.report;

import java.util.Locale;
import java.util.Map;

/** Plain-text rendering of a {@link DatasetReport} for terminals and logs. */
public final class DatasetReportRenderer {
    private DatasetReportRenderer() {
    }

    public static String render(DatasetReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Dataset ").append(r.dataset()).append('\n');
        sb.append(String.format(Locale.ROOT, "  files            %d (%s)%n", r.files().size(), String.join(", ", r.files())));
        sb.append("  format           ").append(join(r.formats())).append('\n');
        sb.append("  template         ").append(r.template()).append('\n');
        sb.append("  trainOn          ").append(r.trainOn()).append('\n');
        sb.append("  special tokens   ").append(join(r.specialTokens())).append('\n');
        sb.append(String.format(Locale.ROOT, "  records          %d read, %d skipped as invalid%n", r.recordsRead(), r.skipped()));
        for (String s : r.skippedExamples()) {
            sb.append("                     skipped: ").append(s).append('\n');
        }
        if (r.selection().values().stream().anyMatch(v -> v > 0)) {
            sb.append("  selection        dropped ").append(join(r.selection())).append('\n');
        }
        if (r.droppedNoLabels() > 0) {
            sb.append(String.format(Locale.ROOT, "  no labels left   %d samples dropped (their learned part was cut off by truncation)%n",
                    r.droppedNoLabels()));
        }
        sb.append(String.format(Locale.ROOT, "  samples          %d train, %d eval (%s)%n", r.trainSamples(), r.evalSamples(),
                r.evalSource()));
        sb.append(String.format(Locale.ROOT, "  maxSeqLength     %d; %d train samples truncated%n", r.maxSeqLength(), r.truncated()));
        DatasetReport.LengthStats l = r.lengths();
        sb.append(String.format(Locale.ROOT, "  tokens/sample    min %d, mean %.1f, p50 %d, p95 %d, max %d%n", l.min(), l.mean(),
                l.p50(), l.p95(), l.max()));
        sb.append(String.format(Locale.ROOT, "  label tokens     %d of %d (%.1f%%)%n", r.labelTokens(), r.totalTokens(),
                100 * r.labelShare()));
        DatasetReport.Packing p = r.packing();
        if (p.packed()) {
            sb.append(String.format(Locale.ROOT, "  packing          on: %d rows, %.1f%% full (%s)%n", p.rows(), 100 * p.fill(),
                    p.reason()));
        } else {
            sb.append(String.format(Locale.ROOT, "  packing          off (%s)%n", p.reason()));
        }
        sb.append("  length histogram (tokens before truncation)\n");
        int most = r.histogram().stream().mapToInt(DatasetReport.Bucket::count).max().orElse(0);
        for (DatasetReport.Bucket b : r.histogram()) {
            String range = b.to() == Integer.MAX_VALUE ? String.format(Locale.ROOT, "> %d", b.from() - 1)
                    : String.format(Locale.ROOT, "%d-%d", b.from(), b.to() - 1);
            int bar = most == 0 ? 0 : (int) Math.round(40.0 * b.count() / most);
            sb.append(String.format(Locale.ROOT, "    %13s %7d %s%n", range, b.count(), "#".repeat(bar)));
        }
        sb.append("  stages\n");
        for (DatasetReport.Stage s : r.stages()) {
            sb.append(String.format(Locale.ROOT, "    %-10s upTo %.2f  %d samples  %d epochs%s%n", s.name(), s.upTo(), s.samples(),
                    s.epochs(), s.learningRate() == null ? "" : String.format(Locale.ROOT, "  lr %.2e", s.learningRate())));
        }
        if (r.sample() != null) {
            DatasetReport.MaskedSample m = r.sample();
            sb.append(String.format(Locale.ROOT, "  sample %s: %d tokens, %d learned (between ⟦ ⟧)%n", m.source(), m.tokens(),
                    m.learnedTokens()));
            for (String line : m.overlay().split("\n", -1)) {
                sb.append("    | ").append(line).append('\n');
            }
        }
        return sb.toString();
    }

    private static String join(Map<String, ?> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }
}
