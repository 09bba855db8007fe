package dev.finetune.trainer.data.label;

/**
 * Labels as HF causal-LM losses read them: aligned with the input ids, the id where a token is learned and
 * {@link #IGNORE} elsewhere; the loss shifts them, so position t is predicted from the tokens before it.
 */
public final class Labels {

    /** The label of tokens that do not count in the loss (PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    private Labels() {}

    /**
     * The tokens the loss sees in the sequence {@code labels[from..to)}: learned labels after its first position
     * (the first token has nothing before it to be predicted from, so it never counts).
     */
    public static int learnedTokens(int[] labels, int from, int to) {
        int n = 0;
        for (int t = from + 1; t < to; t++) {
            if (labels[t] != IGNORE) {
                n++;
            }
        }
        return n;
    }
}
