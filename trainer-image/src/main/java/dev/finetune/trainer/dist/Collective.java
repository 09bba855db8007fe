package dev.finetune.trainer.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

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

    /**
     * Element-wise sum over all ranks of {@code flat}, a 1-D fp32 tensor (see {@link FlatFloat32}), written
     * back into the same tensor: views of it see the sums. This default goes through the host (copy out,
     * {@link #allReduceSum(float[])}, copy back in place); a GPU collective overrides it to reduce the
     * device memory directly.
     */
    default void allReduceSumInPlace(NDArray flat) {
        FlatFloat32.require(flat);
        float[] summed = allReduceSum(flat.toFloatArray());
        try (NDArray sums = flat.getManager().create(summed)) {
            // index-put into the whole range copies into the existing storage; NDArray.set(Buffer) would
            // re-point the tensor at new storage and leave views of it stale
            flat.set(new NDIndex(":"), sums);
        }
    }

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

            @Override
            public void allReduceSumInPlace(NDArray flat) {
                FlatFloat32.require(flat);
            }
        };
    }
}
