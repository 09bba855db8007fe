package dev.finetune.trainer.preference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.OrpoSpec;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.testing.TinyLora;
import dev.finetune.trainer.testing.TinyModels;

import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's preference evaluation is exact over the whole eval set: sums over every pair (and, for ORPO, over
 * every chosen token) divided once, not a mean of per-batch means. The eval set is split unevenly (two pairs, then
 * one) and the figures are compared with the same pairs scored pair by pair.
 */
class PreferenceEvalTest {

    private static final int I = Labels.IGNORE;

    @TempDir
    Path tmp;

    /** Three pairs with different reply lengths, so a mean of batch means differs from the exact mean. */
    static List<TokenizedSample> pairs() {
        List<TokenizedSample> out = new ArrayList<>(PreferenceObjectiveTest.pairs());
        out.add(new TokenizedSample(new int[] {40, 41, 42, 43, 44, 45, 46, 47}, new int[] {I, 41, 42, 43, 44, 45, 46, 47},
                null, 8, Map.of(), new int[] {40, 50, 51}, new int[] {I, 50, 51}));
        return out;
    }

    private static Trainer trainer(LoraModel lora, PreferenceLoss loss, List<Batch> eval) {
        BatchSource train = new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return 1;
            }

            @Override
            public Batch batch(int epoch, int index) {
                return eval.getFirst();
            }
        };
        TrainingSettings settings = new TrainingSettings(1, 1e-3, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 42,
                1, 0, 0, 0, 0);
        return new Trainer(lora, settings, train, eval, List.of(), Trainer.Options.defaults().withPreference(loss));
    }

    private static List<Batch> unevenSplit(List<TokenizedSample> pairs) {
        return List.of(PairBatches.of(pairs.subList(0, 2), 0), PairBatches.of(pairs.subList(2, 3), 0));
    }

    @Test
    void dpoEvalMetricsAreMeansOverEveryPair() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.llama(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            PreferenceObjectiveTest.setB(lora, 5, 0.3);
            PreferenceLoss loss = PreferenceObjectiveTest.dpo(DpoLossType.SIGMOID, 0.5);
            List<PairLoss> each = new ArrayList<>();
            for (TokenizedSample pair : pairs()) {
                each.add(new PreferenceObjective(lora, loss).evaluate(PairBatches.of(List.of(pair), 0), null).pairs().getFirst());
            }
            Trainer trainer = trainer(lora, loss, unevenSplit(pairs()));
            double evalLoss = trainer.evaluate();
            PreferenceMetrics m = trainer.preferenceEval();

            double meanLoss = each.stream().mapToDouble(PairLoss::loss).average().orElseThrow();
            assertThat(evalLoss).isCloseTo(meanLoss, within(1e-6));
            assertThat(m.pairs()).isEqualTo(3);
            assertThat(m.meanLoss()).isCloseTo(meanLoss, within(1e-6));
            assertThat(m.rewardMargin()).isCloseTo(each.stream().mapToDouble(PairLoss::margin).average().orElseThrow(), within(1e-6));
            assertThat(m.rewardChosen()).isCloseTo(each.stream().mapToDouble(PairLoss::rewardChosen).average().orElseThrow(),
                    within(1e-6));
            assertThat(m.rewardAccuracy()).isEqualTo(each.stream().filter(PairLoss::ranksCorrectly).count() / 3.0);
            // the split matters for a mean of batch means: the exact figure is not it
            double batchMeans = (each.get(0).loss() + each.get(1).loss()) / 4 + each.get(2).loss() / 2;
            assertThat(Math.abs(evalLoss - batchMeans)).isGreaterThan(1e-4);
        }
    }

    @Test
    void orpoEvalLossIsTheMeanOddsRatioTermPlusTheTokenMeanNllOfEveryChosenReply() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.llama(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            PreferenceObjectiveTest.setB(lora, 6, 0.3);
            OrpoSpec spec = new OrpoSpec();
            spec.setBeta(0.5);
            PreferenceLoss loss = PreferenceLoss.orpo(spec);
            double oddsRatio = 0;
            double nll = 0;
            long tokens = 0;
            List<Double> sftPerPair = new ArrayList<>();
            for (TokenizedSample pair : pairs()) {
                PreferenceObjective.Result r = new PreferenceObjective(lora, loss).evaluate(PairBatches.of(List.of(pair), 0), null);
                oddsRatio += r.pairs().getFirst().loss() / 3;
                nll += r.chosenNll();
                tokens += r.chosenTokens();
                sftPerPair.add(r.chosenNll() / r.chosenTokens());
            }
            assertThat(tokens).isEqualTo(2 + 4 + 7);
            Trainer trainer = trainer(lora, loss, unevenSplit(pairs()));
            double evalLoss = trainer.evaluate();
            assertThat(evalLoss).isCloseTo(oddsRatio + nll / tokens, within(1e-6));
            assertThat(trainer.preferenceEval().meanLoss()).isCloseTo(oddsRatio, within(1e-6));
            // token-weighted, not the mean of the pairs' own SFT losses
            double pairMean = sftPerPair.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertThat(Math.abs(nll / tokens - pairMean)).isGreaterThan(1e-4);
        }
    }
}
