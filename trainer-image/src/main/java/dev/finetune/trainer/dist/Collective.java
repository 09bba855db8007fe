package dev.finetune.trainer.dist;

/**
 * The collectives data-parallel LoRA training needs: every rank computes gradients on its shard of the
 * data, and sums (gradients, label-token counts, NLL sums) are made identical on all ranks. Sums are
 * taken in rank order, so every rank receives bit-identical results and the replicas never drift.
 */
public interface Collective extends AutoCloseable {

    int rank();

    int worldSize();

    /** Element-wise sum over all ranks; returns the summed array (the argument may be reused). */
    double[] allReduceSum(double[] values);

    /** Element-wise sum over all ranks, accumulated in fp64 and rounded once to fp32. */
    float[] allReduceSum(float[] values);

    @Override
    default void close() {}

    /** One process: sums are the values themselves. */
    static Collective single() {
        return new Collective() {
            @Override
            public int rank() {
                return 0;
            }

            @Override
            public int worldSize() {
                return 1;
            }

            @Override
            public double[] allReduceSum(double[] values) {
                return values;
            }

            @Override
            public float[] allReduceSum(float[] values) {
                return values;
            }
        };
    }
}
