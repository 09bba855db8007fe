package dev.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GeneratorSamplingTest {

    static final float[] LOGITS = {1.0f, 3.0f, 2.0f, -1.0f, 2.5f};

    @Test
    void greedyTakesTheArgmax() {
        assertThat(Generator.pick(LOGITS, Generator.Options.greedy(1), new Random(1))).isEqualTo(1);
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        for (int seed = 0; seed < 20; seed++) {
            assertThat(Generator.pick(LOGITS, new Generator.Options(1, 1.0, 1, 1.0, 0), new Random(seed))).isEqualTo(1);
            assertThat(Generator.pick(LOGITS, new Generator.Options(1, 1.0, 0, 0.01, 0), new Random(seed))).isEqualTo(1);
        }
    }

    @Test
    void topKTwoSamplesOnlyTheTwoBestInProportion() {
        Random random = new Random(7);
        int[] counts = new int[5];
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[(int) Generator.pick(LOGITS, new Generator.Options(1, 1.0, 2, 1.0, 0), random)]++;
        }
        assertThat(counts[0] + counts[2] + counts[3]).isZero();
        // softmax over {3.0, 2.5}: p(1) = 1 / (1 + e^-0.5)
        assertThat((double) counts[1] / n).isCloseTo(1 / (1 + Math.exp(-0.5)), within(0.015));
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // softmax, sorted: 3.0 -> .470, 2.5 -> .285, 2.0 -> .173, 1.0 -> .064, -1.0 -> .009
        Random random = new Random(3);
        boolean[] seen = new boolean[5];
        for (int i = 0; i < 5000; i++) {
            seen[(int) Generator.pick(LOGITS, new Generator.Options(1, 1.0, 0, 0.6, 0), random)] = true;
        }
        // .470 < 0.6 <= .470 + .285: only the two best survive
        assertThat(seen).containsExactly(false, true, false, false, true);
    }
}
