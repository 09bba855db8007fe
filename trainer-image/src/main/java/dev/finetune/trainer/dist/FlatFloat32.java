package dev.finetune.trainer.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.engine.NativeMemory;

/**
 * The buffer an in-place all-reduce works on: one flat, contiguous fp32 tensor (all LoRA gradients of a
 * step, concatenated on their device). Anything else is refused, because a collective on the raw memory of
 * a strided view or of another dtype would sum the wrong bytes.
 */
public final class FlatFloat32 {

    private FlatFloat32() {}

    /** Checks {@code array} is a 1-D fp32 tensor with at least one element. */
    public static void require(NDArray array) {
        if (array.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("all-reduce buffer must be float32, got " + array.getDataType()
                    + " (gradients are summed in fp32; cast them first)");
        }
        if (array.getShape().dimension() != 1 || array.size() == 0) {
            throw new IllegalArgumentException("all-reduce buffer must be one flat non-empty vector, got shape "
                    + array.getShape() + " (flatten and concatenate the gradients first)");
        }
    }

    /**
     * The address of the buffer's first element: a device pointer for a CUDA tensor.
     *
     * @throws IllegalArgumentException when the buffer is not a flat contiguous fp32 vector
     */
    public static long address(NDArray array) {
        require(array);
        return NativeMemory.dataAddress(array);
    }
}
