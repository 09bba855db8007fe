package dev.finetune.trainer.train;

/**
 * One evaluation: {@code evalLoss = sum NLL / label tokens} over the whole eval set, {@code perplexity = exp(evalLoss)}.
 * {@code trainLoss} is the exact token-weighted train loss since the previous epoch boundary.
 * {@code tokensPerSecond} is the training throughput (all ranks) since the previous evaluation, or since the process
 * started or resumed; null when this process trained no token before it (a wall-clock figure: a resumed run's
 * history keeps the figures measured before the interruption).
 */
public record EvalRecord(int epoch, long step, Double trainLoss, Double evalLoss, Double perplexity,
        Double tokensPerSecond, boolean epochEnd) {}
