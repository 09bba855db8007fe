package dev.finetune.trainer.preference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.DpoSpec;
import dev.finetune.api.v1alpha1.OrpoSpec;
import org.junit.jupiter.api.Test;

class PreferenceLossTest {

    private static DpoSpec dpo(DpoLossType type, double beta) {
        DpoSpec s = new DpoSpec();
        s.setLossType(type);
        s.setBeta(beta);
        return s;
    }

    @Test
    void aPairEqualToItsReferenceCostsLogTwoWithZeroRewards() {
        PairLoss p = PreferenceLoss.dpo(new DpoSpec()).of(new PairLogProbs(-10, -12, -10, -12));
        assertThat(p.loss()).isCloseTo(Math.log(2), within(1e-15));
        assertThat(p.rewardChosen()).isZero();
        assertThat(p.margin()).isZero();
        assertThat(p.ranksCorrectly()).isFalse();
        // the gradient pushes the chosen reply up and the rejected one down: -beta/2 and +beta/2
        assertThat(p.dChosen()).isCloseTo(-0.05, within(1e-15));
        assertThat(p.dRejected()).isCloseTo(0.05, within(1e-15));
    }

    @Test
    void gradientsAgreeWithFiniteDifferences() {
        PairLogProbs at = new PairLogProbs(-3.0, -2.5, -3.2, -2.9);
        for (PreferenceLoss loss : new PreferenceLoss[] {PreferenceLoss.dpo(dpo(DpoLossType.SIGMOID, 0.7)),
                PreferenceLoss.dpo(dpo(DpoLossType.IPO, 0.3)), PreferenceLoss.dpo(dpo(DpoLossType.HINGE, 0.5)),
                PreferenceLoss.orpo(new OrpoSpec())}) {
            double h = 1e-6;
            PairLoss p = loss.of(at);
            double dc = (loss.of(new PairLogProbs(at.chosen() + h, at.rejected(), at.refChosen(), at.refRejected())).loss()
                    - loss.of(new PairLogProbs(at.chosen() - h, at.rejected(), at.refChosen(), at.refRejected())).loss()) / (2 * h);
            double dr = (loss.of(new PairLogProbs(at.chosen(), at.rejected() + h, at.refChosen(), at.refRejected())).loss()
                    - loss.of(new PairLogProbs(at.chosen(), at.rejected() - h, at.refChosen(), at.refRejected())).loss()) / (2 * h);
            assertThat(p.dChosen()).as(loss.getClass().getSimpleName()).isCloseTo(dc, within(1e-8));
            assertThat(p.dRejected()).as(loss.getClass().getSimpleName()).isCloseTo(dr, within(1e-8));
        }
    }

    @Test
    void extremeMarginsStayFinite() {
        PairLoss won = PreferenceLoss.dpo(dpo(DpoLossType.SIGMOID, 1)).of(new PairLogProbs(-1, -2000, -1, -1));
        PairLoss lost = PreferenceLoss.dpo(dpo(DpoLossType.SIGMOID, 1)).of(new PairLogProbs(-2000, -1, -1, -1));
        assertThat(won.loss()).isCloseTo(0, within(1e-300));
        assertThat(lost.loss()).isCloseTo(1999, within(1e-9));
        PairLoss orpo = PreferenceLoss.orpo(new OrpoSpec()).of(PairLogProbs.policyOnly(-1e-12, -800));
        assertThat(orpo.loss()).isFinite();
        assertThat(orpo.dChosen()).isFinite();
    }

    @Test
    void whatEachMethodNeeds() {
        assertThat(PreferenceLoss.dpo(dpo(DpoLossType.SIGMOID, 0.1)).meanOverTokens()).isFalse();
        assertThat(PreferenceLoss.dpo(dpo(DpoLossType.HINGE, 0.1)).meanOverTokens()).isFalse();
        assertThat(PreferenceLoss.dpo(dpo(DpoLossType.IPO, 0.1)).meanOverTokens()).isTrue();
        PreferenceLoss orpo = PreferenceLoss.orpo(new OrpoSpec());
        assertThat(orpo.meanOverTokens()).isTrue();
        assertThat(orpo.needsReference()).isFalse();
        assertThat(orpo.addsSftLoss()).isTrue();
    }

    @Test
    void badSettingsAndLogProbsAreRefused() {
        DpoSpec smoothedIpo = dpo(DpoLossType.IPO, 0.1);
        smoothedIpo.setLabelSmoothing(0.1);
        assertThatThrownBy(() -> PreferenceLoss.dpo(smoothedIpo)).hasMessageContaining("only to the sigmoid loss");
        assertThatThrownBy(() -> PreferenceLoss.dpo(dpo(DpoLossType.SIGMOID, 0))).hasMessageContaining("beta");
        assertThatThrownBy(() -> PreferenceLoss.orpo(new OrpoSpec()).of(PairLogProbs.policyOnly(0, -1)))
                .hasMessageContaining("below 0");
    }

    @Test
    void metricsMergeAcrossProcesses() {
        PreferenceLoss loss = PreferenceLoss.dpo(new DpoSpec());
        PreferenceMetrics all = new PreferenceMetrics();
        PreferenceMetrics a = new PreferenceMetrics();
        PreferenceMetrics b = new PreferenceMetrics();
        for (int i = 0; i < 5; i++) {
            PairLoss p = loss.of(new PairLogProbs(-i, -2 * i + 1, -1, -1));
            all.add(p, p.loss());
            (i < 2 ? a : b).add(p, p.loss());
        }
        double[] sums = a.sums();
        double[] other = b.sums();
        for (int k = 0; k < sums.length; k++) {
            sums[k] += other[k];
        }
        PreferenceMetrics merged = PreferenceMetrics.of(sums);
        assertThat(merged.pairs()).isEqualTo(5);
        assertThat(merged.meanLoss()).isCloseTo(all.meanLoss(), within(1e-15)); // summed in another order
        assertThat(merged.rewardAccuracy()).isEqualTo(all.rewardAccuracy());
        // rewards 0.1(1-i) vs 0.1(2-2i): pairs 2, 3, 4 rank right, pair 1 ties: three of five
        assertThat(merged.rewardAccuracy()).isEqualTo(0.6);
        assertThat(merged.rewardMargin()).isCloseTo(all.rewardMargin(), within(1e-15));
    }
}
