package dev.finetune.trainer.data.batch;

import java.util.List;
import java.util.Locale;

/**
 * Whether the rows of a run are packed: as {@code dataset.packing} says, or, when it is unset, where packing
 * wins. Unset, an SFT run packs when both hold:
 * <ul>
 * <li>packing saves at least {@link #MIN_POSITIONS_SAVED} of the token positions the unpacked epoch computes
 * (a batch is as wide as its longest row, so the rest is padding), counted on epoch 0's batches;</li>
 * <li>the packed epoch keeps at least {@link #MIN_PACKED_OPTIMIZER_STEPS} optimizer steps: a packed step holds
 * more samples, so an epoch has fewer updates, and in a run that short the number of updates, not the compute
 * saved, decides the result.</li>
 * </ul>
 * Preference pairs (dpo, orpo) are never packed: each reply is scored as its own sequence.
 *
 * @param packed                  the rows are packed
 * @param requested               {@code dataset.packing} as set; null when unset (decided here)
 * @param pairs                   preference pairs (never packed)
 * @param unpackedPositions       token positions of one unpacked epoch, padding included (0 when not counted)
 * @param packedPositions         the same, packed (0 when not counted)
 * @param unpackedOptimizerSteps  optimizer steps per epoch unpacked (0 when not counted)
 * @param packedOptimizerSteps    the same, packed (0 when not counted)
 */
public record PackingChoice(boolean packed, Boolean requested, boolean pairs, long unpackedPositions,
        long packedPositions, int unpackedOptimizerSteps, int packedOptimizerSteps) {

    /** Share of the unpacked epoch's token positions packing must save to be chosen when unset. */
    public static final double MIN_POSITIONS_SAVED = 0.25;

    /** Optimizer steps per epoch the packed epoch must keep to be chosen when unset. */
    public static final int MIN_PACKED_OPTIMIZER_STEPS = 100;

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
            return new PackingChoice(false, requested, true, 0, 0, 0, 0);
        }
        if (requested != null) {
            return new PackingChoice(requested, requested, false, 0, 0, 0, 0);
        }
        Batcher unpacked = new Batcher(train, options.withPacking(false));
        Batcher packed = new Batcher(train, options.withPacking(true));
        int unpackedSteps = ceilDiv(unpacked.stepsPerEpoch(), gradientAccumulationSteps);
        int packedSteps = ceilDiv(packed.stepsPerEpoch(), gradientAccumulationSteps);
        long unpackedPositions = unpacked.tokenPositionsPerEpoch();
        long packedPositions = packed.tokenPositionsPerEpoch();
        boolean wins = saved(unpackedPositions, packedPositions) >= MIN_POSITIONS_SAVED
                && packedSteps >= MIN_PACKED_OPTIMIZER_STEPS;
        return new PackingChoice(wins, null, false, unpackedPositions, packedPositions, unpackedSteps, packedSteps);
    }

    /** Share of the unpacked epoch's token positions that packing saves (0 when not counted). */
    public double positionsSaved() {
        return saved(unpackedPositions, packedPositions);
    }

    /** Why the rows are or are not packed, for the dataset report. */
    public String reason() {
        if (pairs) {
            return "preference pairs are never packed";
        }
        if (requested != null) {
            return "dataset.packing: " + requested;
        }
        String figures = String.format(Locale.ROOT, "packing saves %.1f%% of the token positions (at least %.0f%% needed), "
                + "optimizer steps per epoch %d unpacked, %d packed (at least %d needed)", 100 * positionsSaved(),
                100 * MIN_POSITIONS_SAVED, unpackedOptimizerSteps, packedOptimizerSteps, MIN_PACKED_OPTIMIZER_STEPS);
        return "dataset.packing unset, decided: " + figures;
    }

    private static double saved(long unpacked, long packed) {
        return unpacked == 0 ? 0 : 1 - (double) packed / unpacked;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
