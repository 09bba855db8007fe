package dev.finetune.trainer.data.batch;

/**
 * Where micro-batches come from. The order within an epoch must be a pure function of the epoch
 * (e.g. a shuffle seeded by {@code seed + epoch}) so that a resumed run continues with exactly the
 * batches an uninterrupted run would have seen.
 */
public interface BatchSource {

    /** Micro-batches in epoch {@code epoch} (0-based). */
    int batchesPerEpoch(int epoch);

    /** The {@code index}-th micro-batch of epoch {@code epoch}. */
    Batch batch(int epoch, int index);
}
