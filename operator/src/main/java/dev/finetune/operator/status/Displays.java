package dev.finetune.operator.status;

import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.ResourcesSpec;
import dev.finetune.api.v1alpha1.StatusDisplay;
import java.util.Locale;

/** Formats status.display, the strings kubectl's printer columns show. Pure. */
public final class Displays {

    private Displays() {
    }

    public static StatusDisplay of(ResourcesSpec resources, Progress progress, Phase phase) {
        StatusDisplay display = new StatusDisplay();
        display.setGpus(gpus(resources));
        if (progress != null) {
            display.setEpoch(fraction(progress.getEpoch(), progress.getTotalEpochs()));
            display.setStep(fraction(progress.getStep(), progress.getTotalSteps()));
            display.setEvalLoss(significant(progress.getEvalLoss()));
            display.setPerplexity(significant(progress.getPerplexity()));
            display.setRewardAccuracy(significant(progress.getRewardAccuracy()));
            if (phase == Phase.Training || phase == Phase.Initializing) {
                display.setEta(duration(progress.getEtaSeconds()));
            }
        }
        return display;
    }

    /** "cpu", "1", "8", or "2x8" for 2 workers with 8 GPUs each. */
    public static String gpus(ResourcesSpec resources) {
        if (resources.getGpus() == 0) {
            return resources.getWorkers() > 1 ? resources.getWorkers() + "xcpu" : "cpu";
        }
        return resources.getWorkers() > 1 ? resources.getWorkers() + "x" + resources.getGpus() : Integer.toString(resources.getGpus());
    }

    static String fraction(Number done, Number total) {
        if (done == null) {
            return null;
        }
        return total == null ? done.toString() : done + "/" + total;
    }

    /** 4 significant digits, no exponent for ordinary magnitudes: 2.573, 13.10, 0.08131, 1235. */
    public static String significant(Double value) {
        if (value == null) {
            return null;
        }
        if (value.isNaN() || value.isInfinite()) {
            return value.isNaN() ? "NaN" : (value > 0 ? "Inf" : "-Inf");
        }
        double abs = Math.abs(value);
        if (abs != 0 && (abs >= 1e6 || abs < 1e-4)) {
            return String.format(Locale.ROOT, "%.3e", value);
        }
        return new java.math.BigDecimal(value).round(new java.math.MathContext(4)).toPlainString();
    }

    /** "45s", "12m", "1h12m", "2d3h". */
    public static String duration(Long seconds) {
        if (seconds == null || seconds < 0) {
            return null;
        }
        long s = seconds;
        if (s < 60) {
            return s + "s";
        }
        long minutes = s / 60;
        if (minutes < 60) {
            return minutes + "m";
        }
        long hours = minutes / 60;
        if (hours < 24) {
            return hours + "h" + (minutes % 60) + "m";
        }
        return (hours / 24) + "d" + (hours % 24) + "h";
    }
}
