package dev.finetune.trainer.preference;

/**
 * Log-probabilities of one preference pair's replies, over the completion tokens only (the tokens SFT
 * would learn). Summed or averaged over those tokens as {@link PreferenceLoss#meanOverTokens()} says.
 *
 * @param chosen      the policy's log-probability of the chosen reply
 * @param rejected    the policy's log-probability of the rejected reply
 * @param refChosen   the reference policy's (base model, adapter off) for the chosen reply; 0 for ORPO
 * @param refRejected the reference policy's for the rejected reply; 0 for ORPO
 */
public record PairLogProbs(double chosen, double rejected, double refChosen, double refRejected) {

    /** A pair without a reference (ORPO). */
    public static PairLogProbs policyOnly(double chosen, double rejected) {
        return new PairLogProbs(chosen, rejected, 0, 0);
    }
}
