package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.model.DecoderModel;

/**
 * A batch on the device: int64 ids and positions [rows, length], and the block-diagonal attention mask
 * for packed batches (null otherwise: the attention kernel then takes its fast causal path).
 */
public record BatchTensors(NDArray ids, NDArray positions, NDArray mask) {

    /** Creates the tensors in {@code scope}, which frees them. */
    public static BatchTensors of(NDManager scope, Batch batch) {
        Shape shape = new Shape(batch.rows(), batch.length());
        NDArray ids = scope.create(longs(batch.inputIds()), shape);
        NDArray positions = scope.create(longs(batch.positionIds()), shape);
        NDArray mask = batch.packed()
                ? DecoderModel.packedMask(scope, longs(batch.segmentIds()), batch.rows(), batch.length()) : null;
        return new BatchTensors(ids, positions, mask);
    }

    private static long[] longs(int[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
