package dev.finetune.trainer.checkpoint;

import dev.finetune.trainer.train.EvalRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * {@code report.html}: loss and perplexity curves as inline SVG (no scripts, opens offline), the
 * per-evaluation table and sample generations before/after training.
 */
public final class TrainingReport {

    /** A prompt with the model's answer before and after training, and the reference answer. */
    public record Sample(String prompt, String reference, String before, String after) {}

    private TrainingReport() {}

    public static void write(Path file, String title, List<EvalRecord> history, List<double[]> stepLosses,
            List<Sample> samples, String summary) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>")
                .append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}"
                        + "</style></head><body>");
        h.append("<h1>").append(esc(title)).append("</h1><p>").append(esc(summary)).append("</p>");
        List<double[]> train = new ArrayList<>(stepLosses);
        List<double[]> eval = new ArrayList<>();
        List<double[]> ppl = new ArrayList<>();
        for (EvalRecord r : history) {
            if (r.evalLoss() != null) {
                eval.add(new double[] {r.step(), r.evalLoss()});
                if (r.perplexity() != null) {
                    ppl.add(new double[] {r.step(), r.perplexity()});
                }
            }
        }
        h.append("<h2>Loss</h2>").append(chart(List.of(train, eval), List.of("train loss (per logged step)", "eval loss"),
                List.of("#1f77b4", "#d62728"), "step", "loss"));
        if (!ppl.isEmpty()) {
            // SFT only: a preference method's eval loss is no token-mean NLL
            h.append("<h2>Eval perplexity</h2>").append(chart(List.of(ppl), List.of("perplexity = exp(eval loss)"),
                    List.of("#2ca02c"), "step", "perplexity"));
        }
        h.append("<h2>Evaluations</h2><table><tr><th>epoch</th><th>step</th><th>train loss</th><th>eval loss</th><th>perplexity</th></tr>");
        for (EvalRecord r : history) {
            h.append("<tr><td>").append(r.epoch()).append(r.epochEnd() ? "" : " (mid)").append("</td><td>").append(r.step())
                    .append("</td><td>").append(fmt(r.trainLoss())).append("</td><td>").append(fmt(r.evalLoss()))
                    .append("</td><td>").append(fmt(r.perplexity())).append("</td></tr>");
        }
        h.append("</table>");
        if (!samples.isEmpty()) {
            h.append("<h2>Sample generations</h2>");
            for (Sample s : samples) {
                h.append("<h3>Prompt</h3><pre>").append(esc(s.prompt())).append("</pre>")
                        .append("<b>reference</b><pre>").append(esc(s.reference())).append("</pre>")
                        .append("<b>before training</b><pre>").append(esc(s.before())).append("</pre>")
                        .append("<b>after training</b><pre>").append(esc(s.after())).append("</pre>");
            }
        }
        h.append("</body></html>\n");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, h.toString());
    }

    static String chart(List<List<double[]>> series, List<String> names, List<String> colors, String xLabel, String yLabel) {
        int w = 800;
        int hgt = 300;
        int pad = 50;
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double minY = Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (List<double[]> s : series) {
            for (double[] p : s) {
                if (!Double.isFinite(p[1])) {
                    continue;
                }
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        if (minX > maxX) {
            return "<p>(no data)</p>";
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (maxY == minY) {
            maxY = minY + 1;
        }
        final double x0 = minX;
        final double xs = (w - 2.0 * pad) / (maxX - minX);
        final double y0 = minY;
        final double ys = (hgt - 2.0 * pad) / (maxY - minY);
        Function<double[], String> pt = p -> String.format(Locale.ROOT, "%.1f,%.1f", pad + (p[0] - x0) * xs,
                hgt - pad - (p[1] - y0) * ys);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", w, hgt));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", pad, hgt - pad, w - pad, hgt - pad));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", pad, pad, pad, hgt - pad));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>", w / 2, hgt - 10, xLabel));
        svg.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%d\" font-size=\"12\">%s</text>", pad - 10, yLabel));
        svg.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%d\" font-size=\"11\">%.3g</text>", hgt - pad, minY));
        svg.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%d\" font-size=\"11\">%.3g</text>", pad + 10, maxY));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.0f</text>", pad, hgt - pad + 15, minX));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.0f</text>", w - pad - 20, hgt - pad + 15, maxX));
        for (int i = 0; i < series.size(); i++) {
            List<double[]> s = series.get(i);
            StringBuilder points = new StringBuilder();
            for (double[] p : s) {
                if (Double.isFinite(p[1])) {
                    points.append(pt.apply(p)).append(' ');
                    svg.append("<circle cx=\"").append(pt.apply(p).split(",")[0]).append("\" cy=\"")
                            .append(pt.apply(p).split(",")[1]).append("\" r=\"2.5\" fill=\"").append(colors.get(i)).append("\"/>");
                }
            }
            svg.append("<polyline fill=\"none\" stroke=\"").append(colors.get(i)).append("\" stroke-width=\"1.5\" points=\"")
                    .append(points.toString().trim()).append("\"/>");
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"%s\">%s</text>",
                    w - pad - 220, pad + 15 * i, colors.get(i), esc(names.get(i))));
        }
        svg.append("</svg>");
        return svg.toString();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
