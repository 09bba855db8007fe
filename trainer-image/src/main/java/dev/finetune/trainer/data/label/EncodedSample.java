package dev.finetune.trainer.data.label;

import java.util.List;

/**
 * A record as token ids with labels aligned to them: {@code labels[i] == inputIds[i]} where token i is
 * learned, {@link #IGNORE} (-100) elsewhere. The trainer shifts (token i is predicted from tokens before i),
 * as HF causal-LM losses do.
 *
 * @param inputIds      token ids, no padding
 * @param labels        same length as inputIds
 * @param renderedText  the text that was tokenized (the chat template's output)
 * @param learnedSpans  the learned ranges of renderedText, as [start, end) UTF-16 offsets
 */
public record EncodedSample(int[] inputIds, int[] labels, String renderedText, List<int[]> learnedSpans) {

    /** The label of tokens that do not count in the loss (PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    public int length() {
        return inputIds.length;
    }

    public int labelTokenCount() {
        int n = 0;
        for (int l : labels) {
            if (l != IGNORE) {
                n++;
            }
        }
        return n;
    }
}
