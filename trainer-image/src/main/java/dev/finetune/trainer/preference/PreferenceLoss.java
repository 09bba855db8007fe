package dev.finetune.trainer.preference;

import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.DpoSpec;
import dev.finetune.api.v1alpha1.OrpoSpec;

/**
 * The preference loss of a pair from its log-probabilities, in fp64, with its exact gradient.
 *
 * <p>DPO, with the log-ratio margin {@code h = (c - refC) - (r - refR)}:
 * <ul>
 *   <li>sigmoid: {@code -(1-e) log sigmoid(beta h) - e log sigmoid(-beta h)}, e = label smoothing;</li>
 *   <li>ipo: {@code (h - 1/(2 beta))^2}, with log-probs averaged over the completion tokens;</li>
 *   <li>hinge: {@code relu(1 - beta h)} (its gradient at the kink is 0, like torch's relu).</li>
 * </ul>
 * Rewards are {@code beta (c - refC)} and {@code beta (r - refR)}.
 *
 * <p>ORPO, with token-averaged log-probs: {@code log_odds = (c - r) - (log(1 - e^c) - log(1 - e^r))}, the term
 * {@code -beta log sigmoid(log_odds)} added to the chosen reply's SFT loss; rewards {@code beta c}, {@code beta r}.
 */
public abstract sealed class PreferenceLoss {

    protected final double beta;

    private PreferenceLoss(double beta) {
        if (!(beta > 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta must be a positive number, was " + beta);
        }
        this.beta = beta;
    }

    public static PreferenceLoss dpo(DpoSpec spec) {
        return new Dpo(spec.getBeta(), spec.getLossType(), spec.getLabelSmoothing(), spec.isPrecomputeReferenceLogProbs());
    }

    public static PreferenceLoss orpo(OrpoSpec spec) {
        return new Orpo(spec.getBeta());
    }

    /** The pair's loss, gradient and rewards. */
    public abstract PairLoss of(PairLogProbs p);

    /** True when the log-probs are averaged over the completion tokens (IPO, ORPO); false when summed. */
    public abstract boolean meanOverTokens();

    /** True when the loss compares against the reference policy (DPO), so the reference log-probs are needed. */
    public abstract boolean needsReference();

    /** True when the chosen reply's SFT loss (mean token NLL) is part of the loss (ORPO). */
    public abstract boolean addsSftLoss();

    /** True when each reply's reference log-prob is computed once and kept (training.dpo.precomputeReferenceLogProbs). */
    public boolean keepsReference() {
        return false;
    }

    public double beta() {
        return beta;
    }

    /** {@code log sigmoid(x)} without overflow. */
    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }

    static final class Dpo extends PreferenceLoss {
        private final DpoLossType type;
        private final double labelSmoothing;
        private final boolean keepReference;

        Dpo(double beta, DpoLossType type, double labelSmoothing, boolean keepReference) {
            super(beta);
            this.keepReference = keepReference;
            if (labelSmoothing < 0 || labelSmoothing >= 0.5) {
                throw new IllegalArgumentException("label smoothing must be in [0, 0.5), was " + labelSmoothing);
            }
            if (labelSmoothing != 0 && type != DpoLossType.SIGMOID) {
                throw new IllegalArgumentException("label smoothing applies only to the sigmoid loss, not " + type);
            }
            this.type = type;
            this.labelSmoothing = labelSmoothing;
        }

        @Override
        public PairLoss of(PairLogProbs p) {
            double chosenRatio = p.chosen() - p.refChosen();
            double rejectedRatio = p.rejected() - p.refRejected();
            double h = chosenRatio - rejectedRatio;
            double loss;
            double dh;
            switch (type) {
                case SIGMOID -> {
                    loss = -(1 - labelSmoothing) * logSigmoid(beta * h) - labelSmoothing * logSigmoid(-beta * h);
                    dh = -(1 - labelSmoothing) * beta * sigmoid(-beta * h) + labelSmoothing * beta * sigmoid(beta * h);
                }
                case IPO -> {
                    double d = h - 1 / (2 * beta);
                    loss = d * d;
                    dh = 2 * d;
                }
                case HINGE -> {
                    double m = 1 - beta * h;
                    loss = Math.max(0, m);
                    dh = m > 0 ? -beta : 0;
                }
                default -> throw new IllegalStateException("unknown DPO loss " + type);
            }
            return new PairLoss(loss, dh, -dh, beta * chosenRatio, beta * rejectedRatio);
        }

        @Override
        public boolean meanOverTokens() {
            return type == DpoLossType.IPO;
        }

        @Override
        public boolean needsReference() {
            return true;
        }

        @Override
        public boolean keepsReference() {
            return keepReference;
        }

        @Override
        public boolean addsSftLoss() {
            return false;
        }
    }

    static final class Orpo extends PreferenceLoss {

        Orpo(double beta) {
            super(beta);
        }

        @Override
        public PairLoss of(PairLogProbs p) {
            double c = p.chosen();
            double r = p.rejected();
            if (!(c < 0) || !(r < 0)) {
                throw new IllegalArgumentException("ORPO needs log-probabilities below 0 (probabilities below 1), "
                        + "was chosen " + c + ", rejected " + r);
            }
            // log(1 - e^x) for x < 0, accurate near 0 and far below it
            double logOddsOf = (c - r) - (log1mExp(c) - log1mExp(r));
            double loss = -beta * logSigmoid(logOddsOf);
            double dLogOdds = -beta * sigmoid(-logOddsOf);
            // d log_odds / d c = 1 + e^c / (1 - e^c) = 1 / (1 - e^c); likewise -1 / (1 - e^r)
            double dChosen = dLogOdds / -Math.expm1(c);
            double dRejected = -dLogOdds / -Math.expm1(r);
            return new PairLoss(loss, dChosen, dRejected, beta * c, beta * r);
        }

        private static double log1mExp(double x) {
            return x > -Math.log(2) ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
        }

        @Override
        public boolean meanOverTokens() {
            return true;
        }

        @Override
        public boolean needsReference() {
            return false;
        }

        @Override
        public boolean addsSftLoss() {
            return true;
        }
    }
}
