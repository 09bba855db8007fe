package dev.finetune.trainer.train;

/**
 * One evaluation: {@code evalLoss = sum NLL / label tokens} over the whole eval set, {@code perplexity = exp(evalLoss)}.
 * {@code trainLoss} is the exact token-weighted train loss since the previous epoch boundary.
 */
public record EvalRecord(int epoch, long step, Double trainLoss, Double evalLoss, Double perplexity,
        Double tokensPerSecond, boolean epochEnd) {}
