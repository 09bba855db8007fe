package dev.finetune.trainer.preference;

/**
 * Running sums of the preference metrics over pairs: the mean loss, mean rewards, reward accuracy and
 * mean margin. Exact over everything added (an eval set is summed pair by pair, not averaged batch by
 * batch), and mergeable across processes through {@link #sums()} / {@link #of(double[])}.
 */
public final class PreferenceMetrics {

    private double loss;
    private double rewardChosen;
    private double rewardRejected;
    private double correct;
    private double margin;
    private double pairs;

    /** Adds one pair; {@code loss} is the pair's whole loss (ORPO: its SFT loss plus the odds-ratio term). */
    public void add(PairLoss pair, double loss) {
        this.loss += loss;
        rewardChosen += pair.rewardChosen();
        rewardRejected += pair.rewardRejected();
        correct += pair.ranksCorrectly() ? 1 : 0;
        margin += pair.margin();
        pairs++;
    }

    public long pairs() {
        return (long) pairs;
    }

    public double meanLoss() {
        return mean(loss);
    }

    public double rewardChosen() {
        return mean(rewardChosen);
    }

    public double rewardRejected() {
        return mean(rewardRejected);
    }

    /** The fraction of pairs whose chosen reward is strictly above the rejected one. */
    public double rewardAccuracy() {
        return mean(correct);
    }

    public double rewardMargin() {
        return mean(margin);
    }

    private double mean(double sum) {
        return pairs == 0 ? Double.NaN : sum / pairs;
    }

    /** The sums, for an all-reduce across processes. */
    public double[] sums() {
        return new double[] {loss, rewardChosen, rewardRejected, correct, margin, pairs};
    }

    /** Metrics from (all-reduced) {@link #sums()}. */
    public static PreferenceMetrics of(double[] sums) {
        if (sums.length != 6) {
            throw new IllegalArgumentException("expected 6 sums, got " + sums.length);
        }
        PreferenceMetrics m = new PreferenceMetrics();
        m.loss = sums[0];
        m.rewardChosen = sums[1];
        m.rewardRejected = sums[2];
        m.correct = sums[3];
        m.margin = sums[4];
        m.pairs = sums[5];
        return m;
    }
}
