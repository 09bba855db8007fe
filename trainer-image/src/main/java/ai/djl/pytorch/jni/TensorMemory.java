package ai.djl.pytorch.jni;

import ai.djl.pytorch.engine.PtNDArray;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * The raw address of a tensor's data, for handing it to a native library (NCCL) without a copy.
 *
 * <p>Lives in DJL's package because {@code PyTorchLibrary} is package-private. Its native
 * {@code torchDirectByteBuffer} wraps {@code tensor.data_ptr()} in a direct buffer without copying
 * (it refuses sparse, mkldnn and non-contiguous tensors), so for a CUDA tensor the address is a device
 * pointer: usable by NCCL/CUDA, never to be dereferenced from Java. DJL's public
 * {@code toByteBuffer(true)} is no substitute: it first copies a GPU tensor to the host.
 */
public final class TensorMemory {

    private TensorMemory() {}

    /**
     * Address of the first element of {@code array}, a dense contiguous tensor with at least one element.
     * The address is valid while the tensor is alive and not resized.
     *
     * @throws IllegalArgumentException for an empty or non-contiguous tensor
     */
    public static long dataAddress(PtNDArray array) {
        if (array.size() == 0) {
            throw new IllegalArgumentException("tensor " + array.getShape() + " has no elements, so no data address");
        }
        long handle = array.getHandle();
        if (!PyTorchLibrary.LIB.torchIsContiguous(handle)) {
            throw new IllegalArgumentException("tensor " + array.getShape() + " is not contiguous; its memory is not "
                    + "one flat block (make a contiguous copy first)");
        }
        ByteBuffer view = PyTorchLibrary.LIB.torchDirectByteBuffer(handle);
        return MemorySegment.ofBuffer(view).address();
    }
}
