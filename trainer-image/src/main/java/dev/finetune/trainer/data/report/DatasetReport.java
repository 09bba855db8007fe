package dev.finetune.trainer.data.report;

import java.util.List;
import java.util.Map;

/**
 * What the data pipeline did, for a person to check before training (printed by {@code finetune run} and
 * {@code finetune inspect-data}; see {@link DatasetReportRenderer}).
 *
 * @param dataset          the dataset path as given
 * @param files            the files read
 * @param formats          records per detected/declared format
 * @param template         the chat template used ("model" or a named one) and where it came from
 * @param trainOn          which tokens are learned
 * @param specialTokens    bos / eos / pad / stop tokens as text
 * @param recordsRead      records parsed from the training files
 * @param skipped          records skipped as invalid (skipInvalidRecords)
 * @param skippedExamples  the first few skip reasons, with file and line
 * @param selection        dropped by selection: duplicates, tooShort, tooLong, belowTopN
 * @param droppedNoLabels  samples left with no learned token after truncation (dropped)
 * @param trainSamples     training samples
 * @param evalSamples      eval samples
 * @param evalSource       "split 0.1 of the dataset (seed 42)", "file eval.jsonl" or "none"
 * @param maxSeqLength     the row limit
 * @param truncated        samples cut to maxSeqLength
 * @param lengths          train sample lengths in tokens before truncation
 * @param histogram        length histogram of train samples (before truncation)
 * @param totalTokens      train tokens after truncation
 * @param labelTokens      learned train tokens
 * @param packing          whether rows are packed and why; packed rows and their fill
 * @param stages           curriculum stages (one "all" stage without a curriculum)
 * @param sample           one training sample with its mask shown
 */
public record DatasetReport(String dataset, List<String> files, Map<String, Integer> formats, String template,
        String trainOn, Map<String, String> specialTokens, int recordsRead, int skipped, List<String> skippedExamples,
        Map<String, Integer> selection, int droppedNoLabels, int trainSamples, int evalSamples, String evalSource,
        int maxSeqLength, int truncated, LengthStats lengths, List<Bucket> histogram, long totalTokens,
        long labelTokens, Packing packing, List<Stage> stages, MaskedSample sample) {

    /** Share of train tokens that carry a label. */
    public double labelShare() {
        return totalTokens == 0 ? 0 : (double) labelTokens / totalTokens;
    }

    public record LengthStats(int min, double mean, int p50, int p95, int max) {
    }

    /** Samples whose length is in [from, to); {@code to} is Integer.MAX_VALUE for the overflow bucket. */
    public record Bucket(int from, int to, int count) {
    }

    /**
     * Whether rows are packed, why (the spec's value, or the figures of the decision when it is unset), the
     * number of rows (samples when not packed), and the share of packed row capacity (rows × maxSeqLength) holding
     * tokens (0 when not packed).
     */
    public record Packing(boolean packed, String reason, int rows, double fill) {
    }

    public record Stage(String name, double upTo, int epochs, Double learningRate, int samples) {
    }

    /**
     * One sample: its source, the rendered text with learned runs between ⟦ and ⟧, and token counts.
     */
    public record MaskedSample(String source, String overlay, int tokens, int learnedTokens) {
    }
}
