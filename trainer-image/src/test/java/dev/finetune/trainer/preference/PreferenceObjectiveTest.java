package dev.finetune.trainer.preference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.DpoSpec;
import dev.finetune.api.v1alpha1.OrpoSpec;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraPerturbation;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.TinyLora;
import dev.finetune.trainer.testing.TinyModels;
import dev.finetune.trainer.train.Backprop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PreferenceObjectiveTest {

    private static final int I = Labels.IGNORE;

    @TempDir
    Path tmp;

    /** Two pairs of different lengths: prompt tokens unlearned (-100), reply tokens learned. */
    static List<TokenizedSample> pairs() {
        return List.of(
                new TokenizedSample(new int[] {5, 6, 7, 8, 9}, new int[] {I, I, I, 8, 9}, null, 5, Map.of(),
                        new int[] {5, 6, 7, 11, 12, 13, 14}, new int[] {I, I, I, 11, 12, 13, 14}),
                new TokenizedSample(new int[] {20, 21, 22, 23, 24, 25}, new int[] {I, I, 22, 23, 24, 25}, null, 6, Map.of(),
                        new int[] {20, 21, 30}, new int[] {I, I, 30}));
    }

    static void setB(LoraModel lora, long seed, double std) {
        LoraPerturbation.perturb(lora, seed, std, 0);
    }

    static PreferenceLoss dpo(DpoLossType type, double beta) {
        DpoSpec s = new DpoSpec();
        s.setLossType(type);
        s.setBeta(beta);
        return PreferenceLoss.dpo(s);
    }

    @Test
    void aFreshAdapterIsItsOwnReference() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.qwen2(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            PreferenceObjective objective = new PreferenceObjective(lora, dpo(DpoLossType.SIGMOID, 0.1));
            PreferenceObjective.Result r = objective.evaluate(PairBatches.of(pairs(), 0), null);
            assertThat(r.pairs()).hasSize(2).allSatisfy(p -> {
                assertThat(p.loss()).isCloseTo(Math.log(2), within(1e-6));
                assertThat(p.margin()).isCloseTo(0, within(1e-6));
            });
            assertThat(r.policy()).containsExactly(r.reference(), within(1e-6));
            assertThat(java.util.Arrays.stream(r.policy()).max().orElseThrow()).isNegative();
        }
    }

    @Test
    void theReferenceIsTheBaseModelWithTheAdapterOff() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.llama(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            PreferenceObjective objective = new PreferenceObjective(lora, dpo(DpoLossType.SIGMOID, 0.1));
            Batch batch = PairBatches.of(pairs(), 0);
            double[] base = objective.evaluate(batch, null).policy();
            setB(lora, 7, 0.2);
            PreferenceObjective.Result trained = objective.evaluate(batch, null);
            // adapters off again after the reference forward: the policy differs from the base
            assertThat(trained.reference()).containsExactly(base, within(1e-5));
            assertThat(Math.abs(trained.policy()[0] - base[0])).isGreaterThan(1e-3);
            // precomputed reference log-probs give the same pairs
            double[] pre = objective.referenceLogProbs(batch);
            PreferenceObjective.Result withPre = objective.evaluate(batch, pre);
            assertThat(withPre.pairs().get(1).loss()).isCloseTo(trained.pairs().get(1).loss(), within(1e-9));
        }
    }

    @Test
    void keptReferenceLogProbsAreComputedOnceAndGiveTheSameLoss() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.llama(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            setB(lora, 9, 0.2);
            DpoSpec keep = new DpoSpec();
            keep.setPrecomputeReferenceLogProbs(true);
            PreferenceObjective kept = new PreferenceObjective(lora, PreferenceLoss.dpo(keep));
            PreferenceObjective fresh = new PreferenceObjective(lora, PreferenceLoss.dpo(new DpoSpec()));
            Batch both = PairBatches.of(pairs(), 0);
            PreferenceObjective.Result first = kept.evaluate(both, null);
            assertThat(kept.keptReferenceCount()).isEqualTo(4);
            // the second pair alone: other padding, same replies, so its kept values serve
            PreferenceObjective.Result alone = kept.evaluate(PairBatches.of(pairs().subList(1, 2), 0), null);
            assertThat(kept.keptReferenceCount()).isEqualTo(4);
            assertThat(alone.reference()).containsExactly(first.reference()[1], first.reference()[3]);
            assertThat(first.pairs().get(0).loss()).isCloseTo(fresh.evaluate(both, null).pairs().get(0).loss(), within(1e-9));
        }
    }

    @Test
    void aPairScoresTheSameAloneAndBesideALongerOne() {
        try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.qwen3(), DataType.FLOAT32)) {
            LoraModel lora = tiny.lora();
            setB(lora, 3, 0.2);
            PreferenceObjective objective = new PreferenceObjective(lora, dpo(DpoLossType.IPO, 0.1));
            double[] both = objective.evaluate(PairBatches.of(pairs(), 0), null).policy();
            double[] alone = objective.evaluate(PairBatches.of(pairs().subList(1, 2), 0), null).policy();
            assertThat(alone[0]).isCloseTo(both[1], within(1e-5));
            assertThat(alone[1]).isCloseTo(both[3], within(1e-5));
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesOfTheLoss() {
        for (PreferenceLoss preference : new PreferenceLoss[] {dpo(DpoLossType.SIGMOID, 0.5), dpo(DpoLossType.IPO, 0.5),
                PreferenceLoss.orpo(new OrpoSpec())}) {
            try (TinyLora tiny = TinyLora.allLinear(tmp, TinyModels.Spec.llama(), DataType.FLOAT32)) {
                LoraModel lora = tiny.lora();
                setB(lora, 11, 0.3);
                PreferenceObjective objective = new PreferenceObjective(lora, preference);
                Batch batch = PairBatches.of(pairs(), 0);
                double[] reference = preference.needsReference() ? objective.referenceLogProbs(batch) : null;
                PreferenceObjective.Result r = objective.forwardBackward(batch,
                        new ForwardContext(Engine.kernels(), false, 0), new Backprop(lora.base(), false), 0.5, 1.0 / 6, reference);
                String name = lora.trainable().keySet().stream().filter(k -> k.contains("lora_A")).findFirst().orElseThrow();
                float[] grad = Autograd.withoutGrad(() -> lora.trainable().get(name).getGradient().toFloatArray());
                float[] w = lora.trainable().get(name).toFloatArray();
                int at = 0;
                for (int i = 1; i < grad.length; i++) {
                    at = Math.abs(grad[i]) > Math.abs(grad[at]) ? i : at;
                }
                assertThat(Math.abs(grad[at])).isGreaterThan(1e-3f);
                // fp32 model: a step large enough that rounding of the log-prob sums stays small beside it
                double h = 1e-2;
                double up = total(objective, lora, name, w, at, h, batch, reference);
                double down = total(objective, lora, name, w, at, -h, batch, reference);
                assertThat(grad[at]).as(preference.getClass().getSimpleName())
                        .isCloseTo((float) ((up - down) / (2 * h)), within((float) (1e-3 + 2e-2 * Math.abs(grad[at]))));
                assertThat(r.pairs()).hasSize(2);
            }
        }
    }

    @Test
    void bf16ActivationsGiveTheFp32GradientsWithinBf16Rounding() {
        float[][] grads = new float[2][];
        DataType[] types = {DataType.FLOAT32, DataType.BFLOAT16};
        for (int k = 0; k < 2; k++) {
            try (TinyLora tiny = TinyLora.allLinear(tmp.resolve("m" + k), TinyModels.Spec.llama(), types[k])) {
                LoraModel lora = tiny.lora();
                setB(lora, 5, 0.3);
                PreferenceObjective objective = new PreferenceObjective(lora, dpo(DpoLossType.SIGMOID, 0.5));
                objective.forwardBackward(PairBatches.of(pairs(), 0), new ForwardContext(Engine.kernels(), false, 0),
                        new Backprop(lora.base(), false), 0.5, 0, null);
                String name = lora.trainable().keySet().stream().filter(n -> n.contains("lora_A")).findFirst().orElseThrow();
                grads[k] = Autograd.withoutGrad(() -> lora.trainable().get(name).getGradient().toFloatArray());
            }
        }
        float max = 0;
        float diff = 0;
        for (int i = 0; i < grads[0].length; i++) {
            max = Math.max(max, Math.abs(grads[0][i]));
            diff = Math.max(diff, Math.abs(grads[0][i] - grads[1][i]));
        }
        assertThat(max).isGreaterThan(1e-3f);
        assertThat(diff).isLessThan(0.1f * max);
    }

    /** The step loss the backward differentiates: mean preference loss, plus ORPO's token-mean SFT loss. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sigmoid", "ipo", "orpo"})
    void gradientCheckpointingGivesTheSameGradients(String method) {
        PreferenceLoss preference = method.equals("orpo") ? PreferenceLoss.orpo(new OrpoSpec())
                : dpo(DpoLossType.valueOf(method.toUpperCase(Locale.ROOT)), 0.1);
        List<Map<String, float[]>> grads = new ArrayList<>();
        for (boolean checkpointing : new boolean[] {false, true}) {
            try (TinyLora tiny = TinyLora.allLinear(tmp.resolve("c" + checkpointing), TinyModels.Spec.qwen3(), DataType.FLOAT32)) {
                LoraModel lora = tiny.lora();
                setB(lora, 17, 0.3);
                PreferenceObjective objective = new PreferenceObjective(lora, preference);
                Batch batch = PairBatches.of(pairs(), 0);
                double[] reference = preference.needsReference() ? objective.referenceLogProbs(batch) : null;
                objective.forwardBackward(batch, new ForwardContext(Engine.kernels(), false, 0),
                        new Backprop(lora.base(), checkpointing), 0.5, 1.0 / 6, reference);
                Map<String, float[]> g = new LinkedHashMap<>();
                lora.trainable().forEach((k, v) -> g.put(k, Autograd.withoutGrad(() -> v.getGradient().toFloatArray())));
                grads.add(g);
            }
        }
        assertThat(grads.get(1).keySet()).containsExactlyElementsOf(grads.get(0).keySet());
        double largest = 0;
        for (String k : grads.get(0).keySet()) {
            float[] plain = grads.get(0).get(k);
            float[] checkpointed = grads.get(1).get(k);
            for (int i = 0; i < plain.length; i++) {
                assertThat(checkpointed[i]).as(k + "[" + i + "]").isCloseTo(plain[i], within(1e-6f + 1e-5f * Math.abs(plain[i])));
                largest = Math.max(largest, Math.abs(plain[i]));
            }
        }
        assertThat(largest).as("the gradients are not all zero").isGreaterThan(1e-4);
    }

    private static double total(PreferenceObjective objective, LoraModel lora, String name, float[] w, int at, double h,
            Batch batch, double[] reference) {
        float[] x = w.clone();
        x[at] += (float) h;
        Map<String, float[]> values = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> values.put(k, k.equals(name) ? x : v.toFloatArray()));
        lora.load(values);
        PreferenceObjective.Result r = objective.evaluate(batch, reference);
        double sum = 0;
        for (PairLoss p : r.pairs()) {
            sum += p.loss();
        }
        double sft = r.chosenTokens() == 0 ? 0 : r.chosenNll() / r.chosenTokens();
        Map<String, float[]> restore = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> restore.put(k, k.equals(name) ? w : v.toFloatArray()));
        lora.load(restore);
        return sum / r.pairs().size() + sft;
    }
}
