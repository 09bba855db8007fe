package dev.finetune.trainer.preference;

/**
 * The preference term of one pair and what the optimizer needs from it.
 *
 * @param loss           the pair's preference loss (for ORPO the odds-ratio term only, already weighted by beta)
 * @param dChosen        d loss / d (policy log-prob of the chosen reply)
 * @param dRejected      d loss / d (policy log-prob of the rejected reply)
 * @param rewardChosen   the chosen reply's implicit reward
 * @param rewardRejected the rejected reply's implicit reward
 */
public record PairLoss(double loss, double dChosen, double dRejected, double rewardChosen, double rewardRejected) {

    /** The reward margin, chosen minus rejected. */
    public double margin() {
        return rewardChosen - rewardRejected;
    }

    /** Whether the model ranks the pair the way people did: the chosen reward strictly above the rejected one. */
    public boolean ranksCorrectly() {
        return rewardChosen > rewardRejected;
    }
}
