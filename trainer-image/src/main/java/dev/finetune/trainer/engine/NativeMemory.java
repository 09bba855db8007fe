package dev.finetune.trainer.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.TensorMemory;

/** Raw tensor memory for native libraries (NCCL): the address of a tensor's data, without a copy. */
public final class NativeMemory {

    private NativeMemory() {}

    /**
     * Address of the first element of {@code array}, a dense contiguous tensor with at least one element: a
     * device pointer for a CUDA tensor, never to be dereferenced from Java. Valid while the tensor is alive.
     *
     * @throws IllegalArgumentException for an empty or non-contiguous tensor
     */
    public static long dataAddress(NDArray array) {
        return TensorMemory.dataAddress(Autograd.pt(array));
    }
}
