package dev.finetune.trainer.parity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.DpoSpec;
import dev.finetune.api.v1alpha1.OrpoSpec;
import dev.finetune.trainer.preference.PairLogProbs;
import dev.finetune.trainer.preference.PairLoss;
import dev.finetune.trainer.preference.PreferenceLoss;
import dev.finetune.trainer.preference.PreferenceMetrics;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The DPO (sigmoid, smoothed sigmoid, ipo, hinge) and ORPO losses, rewards and gradients against TRL's
 * own DPOTrainer.dpo_loss and ORPOTrainer.odds_ratio_loss ({@code goldens/preference/losses.json},
 * written by tools/reference/generate_preference.sh). Both sides are fp64: tolerance 1e-12 relative.
 */
class PreferenceLossParityTest {

    private static final double REL = 1e-12;

    static JsonNode golden() {
        return Goldens.preference("losses.json");
    }

    static Stream<JsonNode> cases() {
        return Goldens.preferenceCases("losses.json");
    }

    private static PreferenceLoss lossOf(JsonNode c) {
        String type = c.path("lossType").asText();
        if (type.equals("orpo")) {
            OrpoSpec spec = new OrpoSpec();
            spec.setBeta(c.path("beta").asDouble());
            return PreferenceLoss.orpo(spec);
        }
        DpoSpec spec = new DpoSpec();
        spec.setBeta(c.path("beta").asDouble());
        spec.setLossType(DpoLossType.valueOf(type.toUpperCase(Locale.ROOT)));
        spec.setLabelSmoothing(c.path("labelSmoothing").asDouble());
        return PreferenceLoss.dpo(spec);
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    private static void close(String what, double actual, double expected) {
        assertThat(actual).as(what).isCloseTo(expected, within(REL * Math.max(1, Math.abs(expected))));
    }

    @Test
    void goldensComeFromThePinnedTrl() {
        JsonNode g = golden();
        assertThat(g.at("/versions/trl").asText()).isEqualTo("0.24.0");
        assertThat(g.at("/versions/torch").asText()).isEqualTo("2.7.1");
        assertThat(g.path("cases").size()).isEqualTo(7);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lossRewardsAndGradientsMatchTrl(JsonNode c) {
        PreferenceLoss loss = lossOf(c);
        JsonNode in = c.path("inputs");
        double[] chosen = doubles(in.path("chosen"));
        double[] rejected = doubles(in.path("rejected"));
        boolean dpo = in.has("refChosen");
        double[] refChosen = dpo ? doubles(in.path("refChosen")) : new double[chosen.length];
        double[] refRejected = dpo ? doubles(in.path("refRejected")) : new double[chosen.length];
        int n = chosen.length;
        PreferenceMetrics metrics = new PreferenceMetrics();
        for (int i = 0; i < n; i++) {
            PairLoss pair = loss.of(new PairLogProbs(chosen[i], rejected[i], refChosen[i], refRejected[i]));
            String at = c.path("name").asText() + " pair " + i;
            close(at + " loss", pair.loss(), c.path("losses").get(i).asDouble());
            close(at + " reward chosen", pair.rewardChosen(), c.path("rewardsChosen").get(i).asDouble());
            close(at + " reward rejected", pair.rewardRejected(), c.path("rewardsRejected").get(i).asDouble());
            // TRL differentiates the mean over the batch's pairs
            close(at + " d/d chosen", pair.dChosen() / n, c.path("gradChosen").get(i).asDouble());
            close(at + " d/d rejected", pair.dRejected() / n, c.path("gradRejected").get(i).asDouble());
            metrics.add(pair, pair.loss());
        }
        close("mean loss", metrics.meanLoss(), mean(doubles(c.path("losses"))));
        double[] rc = doubles(c.path("rewardsChosen"));
        double[] rr = doubles(c.path("rewardsRejected"));
        int correct = 0;
        double margin = 0;
        for (int i = 0; i < n; i++) {
            correct += rc[i] > rr[i] ? 1 : 0;
            margin += rc[i] - rr[i];
        }
        close("reward accuracy", metrics.rewardAccuracy(), (double) correct / n);
        close("reward margin", metrics.rewardMargin(), margin / n);
        assertThat(loss.needsReference()).isEqualTo(dpo);
    }

    private static double mean(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v;
        }
        return s / a.length;
    }
}
