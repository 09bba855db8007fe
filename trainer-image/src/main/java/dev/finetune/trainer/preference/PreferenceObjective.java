package dev.finetune.trainer.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.train.Backprop;
import dev.finetune.trainer.train.BatchTensors;
import dev.finetune.trainer.train.CausalLmLoss;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The preference objective on a {@link PairBatches pair batch}: one forward of chosen and rejected rows with
 * the adapters on, the reference log-probabilities from a forward with the adapters off (or precomputed),
 * the {@link PreferenceLoss} of each pair, and one backward in which every completion token of a row is
 * weighted by d loss / d (that row's log-probability). Log-probabilities cover the learned tokens only
 * (label not -100, the SFT masking rules), summed or averaged over them as the loss requires.
 */
public final class PreferenceObjective {

    private final LoraModel lora;
    private final DecoderModel model;
    private final CausalLmLoss loss;
    private final PreferenceLoss preference;
    /** Reference log-prob per reply (its ids and labels), when the loss keeps them: the base model never changes. */
    private final Map<Reply, Double> keptReference = new HashMap<>();

    private record Reply(int[] ids, int[] labels) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Reply r && Arrays.equals(ids, r.ids) && Arrays.equals(labels, r.labels);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(ids) + Arrays.hashCode(labels);
        }
    }

    public PreferenceObjective(LoraModel lora, PreferenceLoss preference) {
        this.lora = lora;
        this.model = lora.base();
        this.loss = new CausalLmLoss(model.kernels(), model.lmHead(), model.config().vocabSize());
        this.preference = preference;
    }

    /**
     * What one pair batch gave.
     *
     * @param pairs       each pair's loss, gradient and rewards
     * @param policy      the policy's log-prob per row (chosen rows, then rejected), summed or averaged
     * @param reference   the reference's, same layout; null for ORPO
     * @param chosenNll   ORPO: the sum of token NLL over the chosen rows; 0 otherwise
     * @param chosenTokens ORPO: the learned tokens of the chosen rows; 0 otherwise
     */
    public record Result(List<PairLoss> pairs, double[] policy, double[] reference, double chosenNll, long chosenTokens) {
    }

    /** The reference policy's log-probs of every row (adapters off, no graph): what precomputation stores. */
    public double[] referenceLogProbs(Batch batch) {
        return lora.withAdaptersDisabled(() -> Autograd.withoutGrad(() -> rowLogProbs(batch, null)));
    }

    /** Loss, rewards and log-probs of a batch without gradients (evaluation). */
    public Result evaluate(Batch batch, double[] precomputedReference) {
        return Autograd.withoutGrad(() -> {
            double[] reference = reference(batch, precomputedReference);
            try (NDManager scope = model.manager().newSubManager()) {
                BatchTensors t = BatchTensors.of(scope, batch);
                NDArray hidden = model.hiddenStates(t.ids(), t.positions(), t.mask(), null,
                        ForwardContext.inference(model.kernels()));
                return result(batch, hidden, reference);
            }
        });
    }

    /**
     * Forward and backward of a pair batch. The gradient is that of
     * {@code pairScale * sum over pairs of the preference loss} plus, for ORPO,
     * {@code sftScale * sum of the chosen rows' token NLL}: with pairScale = 1 / (pairs in the optimizer step) and
     * sftScale = 1 / (chosen learned tokens in the step), the step optimises the mean preference loss plus the
     * token-mean SFT loss, however the step is split into micro-batches.
     */
    public Result forwardBackward(Batch batch, ForwardContext ctx, Backprop backprop, double pairScale, double sftScale,
            double[] precomputedReference) {
        double[] reference = reference(batch, precomputedReference);
        CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
        int[] rowOf = rowOfTarget(batch, targets);
        long[] counts = learnedTokens(batch, rowOf);
        try (NDManager scope = model.manager().newSubManager()) {
            return backprop.run(BatchTensors.of(scope, batch), ctx, hidden -> {
                Result r = Autograd.withoutGrad(() -> result(batch, hidden, reference));
                loss.backward(hidden, targets, tokenWeights(r, rowOf, counts, batch.rows() / 2, pairScale, sftScale));
                return r;
            });
        }
    }

    /**
     * The weight of each target token's NLL in the backward: d loss / d NLL_token = -(d loss / d logp_row)
     * (/ tokens of the row when averaged), plus sftScale on the chosen rows for ORPO.
     */
    private double[] tokenWeights(Result r, int[] rowOf, long[] counts, int n, double pairScale, double sftScale) {
        double[] rowWeight = new double[2 * n];
        for (int p = 0; p < n; p++) {
            PairLoss pair = r.pairs().get(p);
            rowWeight[p] = -pair.dChosen() * pairScale / (preference.meanOverTokens() ? counts[p] : 1);
            rowWeight[n + p] = -pair.dRejected() * pairScale / (preference.meanOverTokens() ? counts[n + p] : 1);
            if (preference.addsSftLoss()) {
                rowWeight[p] += sftScale;
            }
        }
        double[] weights = new double[rowOf.length];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = rowWeight[rowOf[i]];
        }
        return weights;
    }

    private double[] reference(Batch batch, double[] precomputed) {
        if (!preference.needsReference()) {
            return null;
        }
        if (precomputed != null) {
            if (precomputed.length != batch.rows()) {
                throw new IllegalArgumentException(precomputed.length + " reference log-probs for " + batch.rows() + " rows");
            }
            return precomputed;
        }
        if (!preference.keepsReference()) {
            return referenceLogProbs(batch);
        }
        Reply[] replies = new Reply[batch.rows()];
        double[] out = new double[batch.rows()];
        boolean missing = false;
        for (int r = 0; r < replies.length; r++) {
            replies[r] = reply(batch, r);
            Double kept = keptReference.get(replies[r]);
            missing |= kept == null;
            out[r] = kept == null ? Double.NaN : kept;
        }
        if (missing) {
            out = referenceLogProbs(batch);
            for (int r = 0; r < replies.length; r++) {
                keptReference.put(replies[r], out[r]);
            }
        }
        return out;
    }

    /** Replies whose reference log-prob is kept. */
    public int keptReferenceCount() {
        return keptReference.size();
    }

    private static Reply reply(Batch batch, int row) {
        int from = row * batch.length();
        int length = 0;
        while (length < batch.length() && batch.segmentIds()[from + length] != 0) {
            length++;
        }
        return new Reply(Arrays.copyOfRange(batch.inputIds(), from, from + length),
                Arrays.copyOfRange(batch.labels(), from, from + length));
    }

    private Result result(Batch batch, NDArray hidden, double[] reference) {
        double[] nll = rowNll(batch, hidden);
        int n = batch.rows() / 2;
        CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
        long[] counts = learnedTokens(batch, rowOfTarget(batch, targets));
        double[] policy = logProbs(nll, counts);
        List<PairLoss> pairs = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            PairLogProbs lp = reference == null ? PairLogProbs.policyOnly(policy[p], policy[n + p])
                    : new PairLogProbs(policy[p], policy[n + p], reference[p], reference[n + p]);
            pairs.add(preference.of(lp));
        }
        double chosenNll = 0;
        long chosenTokens = 0;
        if (preference.addsSftLoss()) {
            for (int p = 0; p < n; p++) {
                chosenNll += nll[p];
                chosenTokens += counts[p];
            }
        }
        return new Result(pairs, policy, reference, chosenNll, chosenTokens);
    }

    /** Row log-probs from a fresh forward (no graph), with whatever adapters are attached now. */
    private double[] rowLogProbs(Batch batch, ForwardContext ctx) {
        try (NDManager scope = model.manager().newSubManager()) {
            BatchTensors t = BatchTensors.of(scope, batch);
            NDArray hidden = model.hiddenStates(t.ids(), t.positions(), t.mask(), null,
                    ctx != null ? ctx : ForwardContext.inference(model.kernels()));
            CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
            return logProbs(rowNll(batch, hidden), learnedTokens(batch, rowOfTarget(batch, targets)));
        }
    }

    private double[] logProbs(double[] nll, long[] counts) {
        double[] out = new double[nll.length];
        for (int r = 0; r < nll.length; r++) {
            if (counts[r] == 0) {
                throw new IllegalArgumentException("row " + r + " of the pair batch has no learned tokens");
            }
            out[r] = -nll[r] / (preference.meanOverTokens() ? counts[r] : 1);
        }
        return out;
    }

    /** The sum of token NLL of every row, from hidden states (no graph). */
    private double[] rowNll(Batch batch, NDArray hidden) {
        CausalLmLoss.Targets all = CausalLmLoss.targets(batch);
        int[] rowOf = rowOfTarget(batch, all);
        double[] out = new double[batch.rows()];
        int start = 0;
        while (start < rowOf.length) {
            int end = start;
            while (end < rowOf.length && rowOf[end] == rowOf[start]) {
                end++;
            }
            CausalLmLoss.Targets row = new CausalLmLoss.Targets(Arrays.copyOfRange(all.rows(), start, end),
                    Arrays.copyOfRange(all.tokens(), start, end));
            out[rowOf[start]] = loss.nllSum(hidden, row);
            start = end;
        }
        return out;
    }

    private static int[] rowOfTarget(Batch batch, CausalLmLoss.Targets targets) {
        int[] rowOf = new int[targets.size()];
        for (int i = 0; i < rowOf.length; i++) {
            rowOf[i] = (int) (targets.rows()[i] / batch.length());
        }
        return rowOf;
    }

    private static long[] learnedTokens(Batch batch, int[] rowOf) {
        long[] counts = new long[batch.rows()];
        for (int r : rowOf) {
            counts[r]++;
        }
        return counts;
    }
}
