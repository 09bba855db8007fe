package dev.finetune.e2e;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The samples of a Prometheus text exposition (the API server's /metrics, the operator's /q/metrics), and what the
 * load benchmark computes from two of them: counter deltas and histogram quantiles the way PromQL's
 * {@code histogram_quantile} interpolates them.
 */
final class PrometheusText {

    record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = samples;
    }

    static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            samples.add(sample(line));
        }
        return new PrometheusText(samples);
    }

    private static Sample sample(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        Map<String, String> labels = new LinkedHashMap<>();
        String name;
        int rest;
        if (brace >= 0 && (space < 0 || brace < space)) {
            name = line.substring(0, brace);
            rest = labels(line, brace + 1, labels);
        } else {
            name = line.substring(0, space);
            rest = space;
        }
        String[] valueAndTime = line.substring(rest).strip().split("\\s+");
        return new Sample(name, labels, number(valueAndTime[0]));
    }

    /** Reads {@code a="x",b="y\"z"}} from {@code start}; returns the index after the closing brace. */
    private static int labels(String line, int start, Map<String, String> into) {
        int i = start;
        while (line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            String key = line.substring(i, eq).strip();
            StringBuilder value = new StringBuilder();
            int j = eq + 2; // after ="
            while (line.charAt(j) != '"') {
                char c = line.charAt(j);
                if (c == '\\') {
                    char next = line.charAt(++j);
                    value.append(next == 'n' ? '\n' : next);
                } else {
                    value.append(c);
                }
                j++;
            }
            into.put(key, value.toString());
            i = j + 1;
            if (line.charAt(i) == ',') {
                i++;
            }
        }
        return i + 1;
    }

    private static double number(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }

    /** The sum of the samples of {@code name} whose labels pass {@code filter}. */
    double sum(String name, Predicate<Map<String, String>> filter) {
        return samples.stream().filter(s -> s.name().equals(name) && filter.test(s.labels()))
                .mapToDouble(Sample::value).sum();
    }

    /** The values label {@code label} takes on the samples of {@code name} ("" where a sample lacks it). */
    java.util.Set<String> labelValues(String name, String label) {
        java.util.Set<String> values = new java.util.TreeSet<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                values.add(s.labels().getOrDefault(label, ""));
            }
        }
        return values;
    }

    /** Cumulative bucket counts by upper bound ({@code le}), summed over the series of histogram {@code name} that pass. */
    NavigableMap<Double, Double> buckets(String name, Predicate<Map<String, String>> filter) {
        NavigableMap<Double, Double> buckets = new TreeMap<>();
        for (Sample s : samples) {
            if (s.name().equals(name + "_bucket") && filter.test(s.labels())) {
                buckets.merge(number(s.labels().get("le")), s.value(), Double::sum);
            }
        }
        return buckets;
    }

    /** {@code after - before} bucket by bucket: the observations made between two scrapes. */
    static NavigableMap<Double, Double> delta(NavigableMap<Double, Double> after, NavigableMap<Double, Double> before) {
        NavigableMap<Double, Double> delta = new TreeMap<>();
        after.forEach((le, count) -> delta.put(le, count - before.getOrDefault(le, 0.0)));
        return delta;
    }

    /**
     * The q-quantile of cumulative buckets, as histogram_quantile computes it: linear within the bucket that holds
     * the rank; the highest finite bound when the rank falls into +Inf; NaN without observations.
     */
    static double quantile(double q, NavigableMap<Double, Double> cumulative) {
        if (cumulative.isEmpty() || cumulative.lastEntry().getValue() <= 0) {
            return Double.NaN;
        }
        double total = cumulative.lastEntry().getValue();
        double rank = q * total;
        double lowerBound = 0;
        double countBelow = 0;
        for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
            if (bucket.getValue() >= rank) {
                if (bucket.getKey().isInfinite()) {
                    return lowerBound;
                }
                double inBucket = bucket.getValue() - countBelow;
                return inBucket <= 0 ? bucket.getKey()
                        : lowerBound + (bucket.getKey() - lowerBound) * (rank - countBelow) / inBucket;
            }
            lowerBound = bucket.getKey();
            countBelow = bucket.getValue();
        }
        return lowerBound;
    }
}
