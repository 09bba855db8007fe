package dev.finetune.trainer.data.batch;

import static dev.finetune.trainer.data.batch.BatcherTest.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackingChoiceTest {

    /** Rows of at most 512 tokens, batches of 4, one rank. */
    static final Batcher.Options OPTIONS = new Batcher.Options(4, 0, 512, false, false, 42, 0, 1);

    /** {@code n} samples with lengths uniform in [min, max]. */
    static List<TokenizedSample> lengths(int n, int min, int max) {
        Random random = new Random(5);
        List<TokenizedSample> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(sample(k, min + random.nextInt(max - min + 1), 1));
        }
        return out;
    }

    @Test
    void unsetPacksWhenItSavesAQuarterOfThePositionsWithoutMoreAttentionAndKeepsAHundredSteps() {
        // 2000 samples of 16-512 tokens: a batch of 4 is padded to its longest, ~40 % padding; ~270 steps packed
        PackingChoice wins = PackingChoice.decide(null, lengths(2000, 16, 512), OPTIONS, 1, false);

        assertThat(wins.packed()).isTrue();
        assertThat(wins.positionsSaved()).isBetween(0.25, 0.6);
        assertThat(wins.attentionRatio()).isBetween(0.5, 1.0);
        assertThat(wins.unpacked().optimizerSteps()).isEqualTo(500);
        assertThat(wins.packing().optimizerSteps()).isBetween(PackingChoice.MIN_PACKED_OPTIMIZER_STEPS, 300);
        assertThat(wins.reason()).startsWith("dataset.packing unset, decided: packing saves ")
                .contains("optimizer steps per epoch 500 unpacked");
    }

    @Test
    void unsetDoesNotPackWhenTheEpochWouldKeepFewerThanAHundredSteps() {
        PackingChoice tooFewSteps = PackingChoice.decide(null, lengths(300, 16, 512), OPTIONS, 1, false);

        assertThat(tooFewSteps.positionsSaved()).isGreaterThan(0.25);
        assertThat(tooFewSteps.attentionRatio()).isLessThan(1.0);
        assertThat(tooFewSteps.packing().optimizerSteps()).isLessThan(PackingChoice.MIN_PACKED_OPTIMIZER_STEPS);
        assertThat(tooFewSteps.packed()).isFalse();
        assertThat(tooFewSteps.reason()).contains("optimizer steps per epoch 75 unpacked", "(at least 100 needed)");
    }

    @Test
    void unsetDoesNotPackShortSamplesIntoRowsSoLongThatAttentionGrows() {
        // 8-40 tokens in rows of 512: most padding goes, but each row attends over 512 positions, not ~40
        PackingChoice moreAttention = PackingChoice.decide(null, lengths(20000, 8, 40), OPTIONS, 1, false);

        assertThat(moreAttention.positionsSaved()).isGreaterThan(0.25);
        assertThat(moreAttention.packing().optimizerSteps()).isGreaterThanOrEqualTo(PackingChoice.MIN_PACKED_OPTIMIZER_STEPS);
        assertThat(moreAttention.attentionRatio()).isGreaterThan(1.0);
        assertThat(moreAttention.packed()).isFalse();
        assertThat(moreAttention.reason()).contains("(at most 1x)");
    }

    @Test
    void unsetDoesNotPackWhenLittlePaddingIsSaved() {
        // lengths 480-512: two never share a row and a batch wastes at most 32 positions per row
        PackingChoice choice = PackingChoice.decide(null, lengths(2000, 480, 512), OPTIONS, 1, false);

        assertThat(choice.packed()).isFalse();
        assertThat(choice.packing().optimizerSteps()).isEqualTo(choice.unpacked().optimizerSteps()).isEqualTo(500);
        assertThat(choice.positionsSaved()).isBetween(0.0, 0.07);
        assertThat(choice.reason()).contains("at least 25% needed");
    }

    @Test
    void optimizerStepsCountAccumulatedMicroBatches() {
        PackingChoice accumulated = PackingChoice.decide(null, lengths(2000, 16, 512), OPTIONS, 4, false);

        assertThat(accumulated.unpacked().optimizerSteps()).isEqualTo(125);
        assertThat(accumulated.packing().optimizerSteps()).isLessThan(PackingChoice.MIN_PACKED_OPTIMIZER_STEPS);
        assertThat(accumulated.packed()).isFalse();
        assertThat(PackingChoice.decide(null, lengths(2000, 16, 512), OPTIONS, 1, false).packed()).isTrue();
    }

    @Test
    void everyRankDecidesTheSame() {
        List<TokenizedSample> samples = lengths(3000, 16, 512);
        PackingChoice rank0 = PackingChoice.decide(null, samples, new Batcher.Options(4, 0, 512, false, false, 42, 0, 2), 1,
                false);
        PackingChoice rank1 = PackingChoice.decide(null, samples, new Batcher.Options(4, 0, 512, false, false, 42, 1, 2), 1,
                false);

        assertThat(rank1).isEqualTo(rank0);
        assertThat(rank0.packed()).isTrue();
        assertThat(rank0.unpacked().optimizerSteps()).isEqualTo(375);
    }

    @Test
    void aValueSetIsFollowedWithoutCounting() {
        List<TokenizedSample> samples = lengths(20, 480, 512);

        assertThat(PackingChoice.decide(true, samples, OPTIONS, 1, false).packed()).isTrue();
        assertThat(PackingChoice.decide(true, samples, OPTIONS, 1, false).reason()).isEqualTo("dataset.packing: true");
        assertThat(PackingChoice.decide(false, lengths(4000, 16, 512), OPTIONS, 1, false).packed()).isFalse();
    }

    @Test
    void preferencePairsAreNeverPacked() {
        PackingChoice unset = PackingChoice.decide(null, lengths(4000, 16, 512), OPTIONS, 1, true);

        assertThat(unset.packed()).isFalse();
        assertThat(unset.reason()).isEqualTo("preference pairs are never packed");
        assertThatThrownBy(() -> PackingChoice.decide(true, lengths(8, 16, 512), OPTIONS, 1, true))
                .hasMessageContaining("remove dataset.packing or set it to false");
    }

    @Test
    void workPerEpochIsTheRowsTimesTheWidthOfEveryBatchOfEpochZero() {
        for (boolean packed : new boolean[] {false, true}) {
            for (boolean grouped : new boolean[] {false, true}) {
                Batcher batcher = new Batcher(lengths(203, 3, 300),
                        new Batcher.Options(4, 0, 512, packed, grouped, 7, 0, 1));
                List<Batch> epoch = batcher.trainEpoch(0);
                long positions = epoch.stream().mapToLong(b -> (long) b.rows() * b.length()).sum();
                long scores = epoch.stream().mapToLong(b -> (long) b.rows() * b.length() * b.length()).sum();

                assertThat(batcher.workPerEpoch()).as("packed %s, grouped %s", packed, grouped)
                        .isEqualTo(new Batcher.EpochWork(positions, scores));
            }
        }
    }
}
