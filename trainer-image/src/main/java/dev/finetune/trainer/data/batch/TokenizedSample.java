package dev.finetune.trainer.data.batch;

import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.label.Labels;
import java.util.Map;

/**
 * One training or eval sample, ready for batching.
 *
 * @param inputIds       token ids, at most maxSeqLength, no padding
 * @param labels         aligned with inputIds: the id where learned, -100 elsewhere (the trainer shifts)
 * @param source         the record it came from
 * @param originalLength its length in tokens before truncation
 * @param scores         the record's score fields (selection, curriculum)
 * @param rejectedIds    for preference records, the rejected reply encoded the same way (truncated alike); else null
 * @param rejectedLabels labels of rejectedIds; else null
 */
public record TokenizedSample(int[] inputIds, int[] labels, SourceLocation source, int originalLength,
        Map<String, Double> scores, int[] rejectedIds, int[] rejectedLabels) {

    public int length() {
        return inputIds.length;
    }

    public boolean truncated() {
        return originalLength > inputIds.length;
    }

    /**
     * Tokens the loss sees ({@link Labels#learnedTokens}); the counts of a batch's samples sum to its
     * {@link Batch#labelTokens()}, packed or not.
     */
    public int labelTokenCount() {
        return Labels.learnedTokens(labels, 0, labels.length);
    }
}
