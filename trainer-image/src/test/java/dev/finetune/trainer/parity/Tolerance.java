package dev.finetune.trainer.parity;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * A stated tolerance from {@code index.json} (docs/parity.md explains each):
 * {@code elementwise}: every element satisfies {@code |java - hf| <= atol + rtol |hf|};
 * {@code scaled}: {@code max |java - hf| <= rtol * max|hf| + atol} over the tensor.
 */
record Tolerance(String name, double atol, double rtol, boolean scaled) {

    static Tolerance of(String name) {
        JsonNode t = Goldens.index().path("tolerances").get(name);
        if (t == null) {
            throw new IllegalStateException("index.json states no tolerance \"" + name + "\"");
        }
        return new Tolerance(name, t.get("atol").asDouble(), t.get("rtol").asDouble(), t.get("kind").asText().equals("scaled"));
    }

    /** Fails with the worst element, the max abs and rel error; returns the max abs error. */
    double check(String what, float[] actual, float[] expected) {
        double[] a = new double[actual.length];
        double[] e = new double[expected.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = actual[i];
        }
        for (int i = 0; i < e.length; i++) {
            e[i] = expected[i];
        }
        return check(what, a, e);
    }

    double check(String what, double[] actual, double[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": Java produced " + actual.length + " values, HF " + expected.length);
        }
        double maxExpected = 0;
        for (double v : expected) {
            maxExpected = Math.max(maxExpected, Math.abs(v));
        }
        double maxAbs = 0;
        double maxRel = 0;
        double worstExcess = Double.NEGATIVE_INFINITY;
        int worst = -1;
        for (int i = 0; i < actual.length; i++) {
            if (!Double.isFinite(actual[i])) {
                throw new AssertionError(what + ": Java value at index " + i + " is " + actual[i] + " (HF " + expected[i] + ")");
            }
            double diff = Math.abs(actual[i] - expected[i]);
            double allowed = scaled ? atol + rtol * maxExpected : atol + rtol * Math.abs(expected[i]);
            maxAbs = Math.max(maxAbs, diff);
            if (expected[i] != 0) {
                maxRel = Math.max(maxRel, diff / Math.abs(expected[i]));
            }
            if (diff - allowed > worstExcess) {
                worstExcess = diff - allowed;
                worst = i;
            }
        }
        String summary = String.format(Locale.ROOT, "%s: %d values, max |java-hf| %.3g, max rel %.3g, max|hf| %.3g (tolerance %s atol %.1g rtol %.1g%s)",
                what, actual.length, maxAbs, maxRel, maxExpected, name, atol, rtol, scaled ? " of max|hf|" : "");
        if (worstExcess > 0) {
            throw new AssertionError(String.format(Locale.ROOT, "%s%n  worst at index %d: java %.9g, hf %.9g", summary, worst,
                    actual[worst], expected[worst]));
        }
        System.out.println("[parity] " + summary);
        return maxAbs;
    }

    void check(String what, double actual, double expected) {
        check(what, new double[] {actual}, new double[] {expected});
    }
}
