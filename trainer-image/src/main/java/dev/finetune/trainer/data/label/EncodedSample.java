package dev.finetune.trainer.data.label;

import java.util.List;

/**
 * A record as token ids with labels aligned to them ({@link Labels}): {@code labels[i] == inputIds[i]}
 * where token i is learned, {@link Labels#IGNORE} elsewhere.
 *
 * @param inputIds      token ids, no padding
 * @param labels        same length as inputIds
 * @param renderedText  the text that was tokenized (the chat template's output)
 * @param learnedSpans  the learned ranges of renderedText, as [start, end) UTF-16 offsets
 */
public record EncodedSample(int[] inputIds, int[] labels, String renderedText, List<int[]> learnedSpans) {

    public int length() {
        return inputIds.length;
    }
}
