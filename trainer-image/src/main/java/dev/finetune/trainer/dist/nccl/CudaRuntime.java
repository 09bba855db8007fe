package dev.finetune.trainer.dist.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.finetune.trainer.dist.GpuEnvironmentException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The few CUDA runtime calls around NCCL: pick the process's GPU, count GPUs, and poll a stream without
 * blocking (so a hung collective can time out). Bound with FFM to the libcudart PyTorch uses (same file, so
 * the same runtime state; the current device lives in the driver context either way).
 */
public final class CudaRuntime {

    /** {@code cudaError_t} values. */
    public static final int SUCCESS = 0;
    public static final int ERROR_NOT_READY = 600;

    /** {@code cudaStream_t} 0: the legacy default stream, where PyTorch (and so DJL) runs its kernels. */
    public static final MemorySegment DEFAULT_STREAM = MemorySegment.NULL;

    public static final NativeLibraryLocator.Spec SPEC = new NativeLibraryLocator.Spec("CUDA runtime (libcudart.so.12)",
            "FINETUNE_CUDART_LIBRARY", "cuda_runtime", List.of("libcudart.so.12", "libcudart.so"),
            "run the trainer's CUDA image (PyTorch's pip install carries <site-packages>/nvidia/cuda_runtime/lib/"
                    + "libcudart.so.12; set PYTORCH_LIBRARY_PATH to <site-packages>/torch/lib), or set "
                    + "FINETUNE_CUDART_LIBRARY=/path/to/libcudart.so.12");

    private final String origin;
    private final MethodHandle getDeviceCount;
    private final MethodHandle setDevice;
    private final MethodHandle streamQuery;
    private final MethodHandle getErrorString;

    private CudaRuntime(NativeLibraryLocator.Located located) {
        this.origin = located.origin();
        getDeviceCount = located.bind("cudaGetDeviceCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setDevice = located.bind("cudaSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        streamQuery = located.bind("cudaStreamQuery", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getErrorString = located.bind("cudaGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /**
     * Finds and binds libcudart.
     *
     * @throws GpuEnvironmentException when it is missing or lacks a symbol
     */
    public static CudaRuntime load(NativeLibraryLocator locator) {
        NativeLibraryLocator.Located located = locator.locate(SPEC);
        try {
            return new CudaRuntime(located);
        } catch (IllegalArgumentException e) {
            throw new GpuEnvironmentException(located.origin() + " is not a usable CUDA runtime: " + e.getMessage()
                    + ". Fix: " + SPEC.fix(), e);
        }
    }


    public String origin() {
        return origin;
    }

    /**
     * The number of visible GPUs.
     *
     * @throws GpuEnvironmentException when CUDA cannot run here (no driver, driver too old, no device)
     */
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int error = (int) getDeviceCount.invokeExact(out);
            if (error != SUCCESS) {
                throw new GpuEnvironmentException("CUDA is not usable on this machine: cudaGetDeviceCount: "
                        + errorString(error) + " (cudaError " + error + "). A GPU worker needs a node with an NVIDIA "
                        + "driver and the GPU resource (nvidia.com/gpu) granted to the pod");
            }
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** Makes {@code device} the calling thread's current GPU. */
    public void setDevice(int device) {
        try {
            int error = (int) setDevice.invokeExact(device);
            if (error != SUCCESS) {
                throw new GpuEnvironmentException("cudaSetDevice(" + device + "): " + errorString(error)
                        + " (cudaError " + error + ")");
            }
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** {@link #SUCCESS} when all work on {@code stream} is done, {@link #ERROR_NOT_READY} while not, else an error. */
    public int streamQuery(MemorySegment stream) {
        try {
            return (int) streamQuery.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    public String errorString(int error) {
        try {
            return NativeCalls.cString((MemorySegment) getErrorString.invokeExact(error)).orElse("cudaError " + error);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }
}
