package dev.finetune.trainer.data.batch;

import java.util.List;
import java.util.Locale;

/**
 * Whether the rows of a run are packed: as {@code dataset.packing} says, or, when it is unset, where packing
 * wins. Unset, an SFT run packs when all three hold, counted on epoch 0's batches of the training set:
 * <ul>
 * <li>packing saves at least {@link #MIN_POSITIONS_SAVED} of the token positions the unpacked epoch computes
 * (a batch is as wide as its longest row, so the rest is padding);</li>
 * <li>it computes no more attention scores (rows × width² per layer and head): short samples packed into much
 * longer rows save padding but pay for it in attention;</li>
 * <li>the packed epoch keeps at least {@link #MIN_PACKED_OPTIMIZER_STEPS} optimizer steps: a packed step holds
 * more samples, so an epoch has fewer updates, and in a run that short the number of updates, not the compute
 * saved, decides the result.</li>
 * </ul>
 * Preference pairs (dpo, orpo) are never packed: each reply is scored as its own sequence.
 *
 * @param packed    the rows are packed
 * @param requested {@code dataset.packing} as set; null when unset (decided here)
 * @param pairs     preference pairs (never packed)
 * @param unpacked  one epoch unpacked, when counted (unset on sft); else null
 * @param packing   the same epoch packed, when counted; else null
 */
public record PackingChoice(boolean packed, Boolean requested, boolean pairs, Plan unpacked, Plan packing) {

    /** Share of the unpacked epoch's token positions packing must save to be chosen when unset. */
    public static final double MIN_POSITIONS_SAVED = 0.25;

    /** Optimizer steps per epoch the packed epoch must keep to be chosen when unset. */
    public static final int MIN_PACKED_OPTIMIZER_STEPS = 100;

    /** One epoch's work, over all ranks (see {@link Batcher#workPerEpoch()}), and its optimizer steps. */
    public record Plan(long tokenPositions, long attentionScores, int optimizerSteps) {
        static Plan of(Batcher batcher, int gradientAccumulationSteps) {
            Batcher.EpochWork work = batcher.workPerEpoch();
            int steps = (batcher.stepsPerEpoch() + gradientAccumulationSteps - 1) / gradientAccumulationSteps;
            return new Plan(work.tokenPositions(), work.attentionScores(), steps);
        }
    }

    /**
     * Decides for {@code train} batched with {@code options} (whose own packing flag is ignored).
     *
     * @param requested                 {@code dataset.packing}: true, false, or null to decide
     * @param gradientAccumulationSteps micro-batches per optimizer step
     * @param pairs                     preference pairs: never packed (true is refused)
     */
    public static PackingChoice decide(Boolean requested, List<TokenizedSample> train, Batcher.Options options,
            int gradientAccumulationSteps, boolean pairs) {
        if (pairs) {
            if (Boolean.TRUE.equals(requested)) {
                throw new IllegalArgumentException(
                        "preference pairs are never packed: remove dataset.packing or set it to false");
            }
            return new PackingChoice(false, requested, true, null, null);
        }
        if (requested != null) {
            return new PackingChoice(requested, requested, false, null, null);
        }
        Plan unpacked = Plan.of(new Batcher(train, options.withPacking(false)), gradientAccumulationSteps);
        Plan packed = Plan.of(new Batcher(train, options.withPacking(true)), gradientAccumulationSteps);
        boolean wins = saved(unpacked, packed) >= MIN_POSITIONS_SAVED
                && packed.attentionScores() <= unpacked.attentionScores()
                && packed.optimizerSteps() >= MIN_PACKED_OPTIMIZER_STEPS;
        return new PackingChoice(wins, null, false, unpacked, packed);
    }

    /** Share of the unpacked epoch's token positions that packing saves; 0 when not counted. */
    public double positionsSaved() {
        return unpacked == null ? 0 : saved(unpacked, packing);
    }

    /** Attention scores packed over unpacked; 0 when not counted. */
    public double attentionRatio() {
        return unpacked == null || unpacked.attentionScores() == 0 ? 0
                : (double) packing.attentionScores() / unpacked.attentionScores();
    }

    /** Why the rows are or are not packed, for the dataset report. */
    public String reason() {
        if (pairs) {
            return "preference pairs are never packed";
        }
        if (requested != null) {
            return "dataset.packing: " + requested;
        }
        return String.format(Locale.ROOT, "dataset.packing unset, decided: packing saves %.1f%% of the token positions "
                + "(at least %.0f%% needed), computes %.2fx the attention scores (at most 1x), optimizer steps per epoch "
                + "%d unpacked, %d packed (at least %d needed)", 100 * positionsSaved(), 100 * MIN_POSITIONS_SAVED,
                attentionRatio(), unpacked.optimizerSteps(), packing.optimizerSteps(), MIN_PACKED_OPTIMIZER_STEPS);
    }

    private static double saved(Plan unpacked, Plan packed) {
        return unpacked.tokenPositions() == 0 ? 0 : 1 - (double) packed.tokenPositions() / unpacked.tokenPositions();
    }
}
