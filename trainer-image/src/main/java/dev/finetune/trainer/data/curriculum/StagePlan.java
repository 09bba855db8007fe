package dev.finetune.trainer.data.curriculum;

import dev.finetune.trainer.data.batch.TokenizedSample;
import java.util.List;

/**
 * One stage of training: these samples (the easiest {@code upTo} share, cumulative) for {@code epochs} epochs
 * at {@code learningRate} (null: training.learningRate). Without a curriculum there is one stage named
 * {@code all} with every training sample.
 */
public record StagePlan(String name, double upTo, int epochs, Double learningRate, List<TokenizedSample> samples) {
}
