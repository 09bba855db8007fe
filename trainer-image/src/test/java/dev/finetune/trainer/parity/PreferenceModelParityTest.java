package dev.finetune.trainer.parity;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.v1alpha1.DpoLossType;
import dev.finetune.api.v1alpha1.DpoSpec;
import dev.finetune.api.v1alpha1.OrpoSpec;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.preference.PairBatches;
import dev.finetune.trainer.preference.PairLoss;
import dev.finetune.trainer.preference.PreferenceLoss;
import dev.finetune.trainer.preference.PreferenceObjective;
import dev.finetune.trainer.train.Backprop;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DPO and ORPO on the tiny Llama fixture with its fixed PEFT adapter against TRL's batch path (goldens in
 * {@code goldens/preference/model.json}, written by tools/reference/generate_preference.sh). DPO, for the sigmoid,
 * ipo and hinge losses: DPOTrainer.concatenated_forward, compute_ref_log_probs with the adapter disabled and
 * dpo_loss; compared are the policy and reference log-probs of chosen and rejected, the losses, the rewards and the
 * gradient of every LoRA tensor. ORPO, beta 0.1 and 1.0: ORPOTrainer.concatenated_forward and odds_ratio_loss plus
 * the trainer's SFT term (the token-mean NLL of the chosen completions); compared are the token-averaged log-probs,
 * the odds-ratio terms, the SFT term, the total loss, the rewards and the LoRA gradients. Tolerances are the HF
 * parity suite's "loss" and "lora_grad" (fp32).
 */
class PreferenceModelParityTest {

    static JsonNode golden() {
        return Goldens.preference("model.json");
    }

    static Stream<JsonNode> dpoCases() {
        return Goldens.preferenceCases("model.json").filter(c -> !c.path("lossType").asText().equals("orpo"));
    }

    static Stream<JsonNode> orpoCases() {
        return Goldens.preferenceCases("model.json").filter(c -> c.path("lossType").asText().equals("orpo"));
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    /** prompt + completion with the prompt unlearned: what the data pipeline makes of a preference record. */
    private static int[][] row(int[] prompt, int[] completion) {
        int[] ids = new int[prompt.length + completion.length];
        int[] labels = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i < prompt.length ? prompt[i] : completion[i - prompt.length];
            labels[i] = i < prompt.length ? Labels.IGNORE : ids[i];
        }
        return new int[][] {ids, labels};
    }

    /** The golden's pairs as the data pipeline makes them (prompt unlearned, completion learned). */
    private static List<TokenizedSample> samples(JsonNode c) {
        List<TokenizedSample> samples = new ArrayList<>();
        for (JsonNode p : c.path("pairs")) {
            int[][] chosen = row(ints(p.path("prompt")), ints(p.path("chosen")));
            int[][] rejected = row(ints(p.path("prompt")), ints(p.path("rejected")));
            samples.add(new TokenizedSample(chosen[0], chosen[1], null, chosen[0].length, Map.of(), rejected[0], rejected[1]));
        }
        return samples;
    }

    /** What a case compares of the objective's result (its pairs, log-probs, SFT term), given the number of pairs. */
    private interface Check {
        void accept(PreferenceObjective.Result result, int pairs);
    }

    /**
     * Loads the fixture with its adapter, runs one forward and backward of {@code loss} on the golden's pairs with
     * pairScale 1 / pairs and sftScale 1 / (learned tokens of the chosen rows), as one optimizer step of one
     * micro-batch does, hands the result to {@code check}, then compares every LoRA gradient.
     */
    private static void run(JsonNode c, PreferenceLoss loss, Check check) {
        List<TokenizedSample> samples = samples(c);
        String lcase = "llama/lora-all-linear";
        String name = c.path("name").asText();
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(Goldens.root().resolve("llama/model"), DataType.FLOAT32, m,
                        ParityEngine.kernels());
                LoraModel lora = LoraModel.attach(model, LoraParityTest.settings(LoraParityTest.meta(lcase)), 1)) {
            lora.load(PeftAdapter.read(LoraParityTest.dir(lcase).resolve("adapter")).tensors());
            PreferenceObjective objective = new PreferenceObjective(lora, loss);
            Batch batch = PairBatches.of(samples, 0);
            int n = samples.size();
            long chosenTokens = 0;
            for (TokenizedSample s : samples) {
                for (int label : s.labels()) {
                    chosenTokens += label == Labels.IGNORE ? 0 : 1;
                }
            }
            PreferenceObjective.Result r = objective.forwardBackward(batch,
                    new ForwardContext(ParityEngine.kernels(), false, 0), new Backprop(lora.base(), false), 1.0 / n,
                    loss.addsSftLoss() ? 1.0 / chosenTokens : 0, null);
            check.accept(r, n);

            JsonNode grads = c.path("grads");
            int compared = 0;
            for (Map.Entry<String, NDArray> e : lora.trainable().entrySet()) {
                String key = e.getKey().replaceFirst("^base_model\\.model\\.", "");
                assertThat(grads.has(key)).as("TRL golden has a gradient for " + key).isTrue();
                float[] grad = Autograd.withoutGrad(() -> e.getValue().getGradient().toFloatArray());
                Tolerance.of("lora_grad").check(name + " grad " + key, grad, floats(grads.path(key)));
                compared++;
            }
            assertThat(compared).isEqualTo(grads.size());
        }
    }

    /** Per pair: the losses, rewards chosen and rejected; for rows: the policy log-probs of chosen and rejected. */
    private static void checkPairs(JsonNode c, PreferenceObjective.Result r, int n) {
        String name = c.path("name").asText();
        Tolerance loss = Tolerance.of("loss");
        double[] chosen = new double[n];
        double[] rejected = new double[n];
        double[] losses = new double[n];
        double[] rewardsChosen = new double[n];
        double[] rewardsRejected = new double[n];
        for (int p = 0; p < n; p++) {
            chosen[p] = r.policy()[p];
            rejected[p] = r.policy()[n + p];
            PairLoss pair = r.pairs().get(p);
            losses[p] = pair.loss();
            rewardsChosen[p] = pair.rewardChosen();
            rewardsRejected[p] = pair.rewardRejected();
        }
        loss.check(name + " chosen logps", chosen, doubles(c.path("chosenLogps")));
        loss.check(name + " rejected logps", rejected, doubles(c.path("rejectedLogps")));
        loss.check(name + " losses", losses, doubles(c.path("losses")));
        loss.check(name + " rewards chosen", rewardsChosen, doubles(c.path("rewardsChosen")));
        loss.check(name + " rewards rejected", rewardsRejected, doubles(c.path("rewardsRejected")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dpoCases")
    void dpoOnTheTinyLlamaMatchesTrl(JsonNode c) {
        DpoSpec spec = new DpoSpec();
        spec.setBeta(c.path("beta").asDouble());
        spec.setLossType(DpoLossType.valueOf(c.path("lossType").asText().toUpperCase(Locale.ROOT)));
        run(c, PreferenceLoss.dpo(spec), (r, n) -> {
            checkPairs(c, r, n);
            String name = c.path("name").asText();
            double[] refChosen = new double[n];
            double[] refRejected = new double[n];
            double mean = 0;
            for (int p = 0; p < n; p++) {
                refChosen[p] = r.reference()[p];
                refRejected[p] = r.reference()[n + p];
                mean += r.pairs().get(p).loss() / n;
            }
            Tolerance loss = Tolerance.of("loss");
            loss.check(name + " reference chosen logps", refChosen, doubles(c.path("refChosenLogps")));
            loss.check(name + " reference rejected logps", refRejected, doubles(c.path("refRejectedLogps")));
            loss.check(name + " loss", mean, c.path("loss").asDouble());
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("orpoCases")
    void orpoOnTheTinyLlamaMatchesTrl(JsonNode c) {
        OrpoSpec spec = new OrpoSpec();
        spec.setBeta(c.path("beta").asDouble());
        run(c, PreferenceLoss.orpo(spec), (r, n) -> {
            checkPairs(c, r, n);
            String name = c.path("name").asText();
            assertThat(r.reference()).as("ORPO has no reference").isNull();
            double sft = r.chosenNll() / r.chosenTokens();
            double mean = 0;
            for (PairLoss p : r.pairs()) {
                mean += p.loss() / n;
            }
            Tolerance loss = Tolerance.of("loss");
            loss.check(name + " SFT term", sft, c.path("sftLoss").asDouble());
            loss.check(name + " loss (SFT term + mean odds-ratio term)", sft + mean, c.path("loss").asDouble());
        });
    }
}
