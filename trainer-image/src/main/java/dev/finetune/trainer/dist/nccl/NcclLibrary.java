package dev.finetune.trainer.dist.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The part of NCCL's C API ({@code nccl.h}) data-parallel training needs, bound with Java's FFM API:
 * version, unique id, communicator init/abort/destroy, the asynchronous error, and an fp32 sum all-reduce.
 * No JNI code of our own; the signatures follow {@code nccl.h} of NCCL 2.x.
 */
public final class NcclLibrary {

    /** {@code ncclResult_t} values. */
    public static final int SUCCESS = 0;
    public static final int UNHANDLED_CUDA_ERROR = 1;
    public static final int SYSTEM_ERROR = 2;
    public static final int INTERNAL_ERROR = 3;
    public static final int INVALID_ARGUMENT = 4;
    public static final int INVALID_USAGE = 5;
    public static final int REMOTE_ERROR = 6;
    public static final int IN_PROGRESS = 7;

    /** {@code ncclDataType_t ncclFloat32} and {@code ncclRedOp_t ncclSum}. */
    static final int FLOAT32 = 7;
    static final int SUM = 0;

    /** {@code NCCL_UNIQUE_ID_BYTES}: {@code ncclUniqueId} is {@code struct { char internal[128]; }}. */
    public static final int UNIQUE_ID_BYTES = 128;

    /** ncclGetLastError and friends appeared in 2.13; async errors in 2.4. Older libraries are refused. */
    public static final int MINIMUM_VERSION = 21300;

    public static final NativeLibraryLocator.Spec SPEC = new NativeLibraryLocator.Spec("NCCL (libnccl.so.2)",
            "FINETUNE_NCCL_LIBRARY", "nccl", List.of("libnccl.so.2", "libnccl.so"),
            "run the trainer's CUDA image (PyTorch's pip install carries <site-packages>/nvidia/nccl/lib/libnccl.so.2; "
                    + "set PYTORCH_LIBRARY_PATH to <site-packages>/torch/lib), install the nvidia-nccl-cu12 wheel or the "
                    + "libnccl2 package, or set FINETUNE_NCCL_LIBRARY=/path/to/libnccl.so.2");

    private static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE).withName("internal")).withName("ncclUniqueId");

    private final String origin;
    private final MethodHandle getVersion;
    private final MethodHandle getUniqueId;
    private final MethodHandle commInitRank;
    private final MethodHandle allReduce;
    private final MethodHandle commGetAsyncError;
    private final MethodHandle commAbort;
    private final MethodHandle commDestroy;
    private final MethodHandle getErrorString;
    private final MethodHandle getLastError;

    private NcclLibrary(NativeLibraryLocator.Located located) {
        this.origin = located.origin();
        getVersion = located.bind("ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getUniqueId = located.bind("ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank): the id by value
        commInitRank = located.bind("ncclCommInitRank",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        // (const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t)
        allReduce = located.bind("ncclAllReduce",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        commGetAsyncError = located.bind("ncclCommGetAsyncError", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        commAbort = located.bind("ncclCommAbort", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commDestroy = located.bind("ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getErrorString = located.bind("ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        getLastError = located.bind("ncclGetLastError", FunctionDescriptor.of(ADDRESS, ADDRESS));
    }

    /**
     * Finds and binds libnccl.
     *
     * @throws dev.finetune.trainer.dist.GpuEnvironmentException when it is missing, lacks a symbol, or is older
     *     than {@link #MINIMUM_VERSION}
     */
    public static NcclLibrary load(NativeLibraryLocator locator) {
        NativeLibraryLocator.Located located = locator.locate(SPEC);
        NcclLibrary nccl;
        try {
            nccl = new NcclLibrary(located);
        } catch (IllegalArgumentException e) {
            throw new dev.finetune.trainer.dist.GpuEnvironmentException(located.origin() + " is not a usable NCCL: "
                    + e.getMessage() + ". Fix: " + SPEC.fix(), e);
        }
        int version = nccl.version();
        if (version < MINIMUM_VERSION) {
            throw new dev.finetune.trainer.dist.GpuEnvironmentException(located.origin() + " is NCCL "
                    + versionName(version) + "; the trainer needs " + versionName(MINIMUM_VERSION) + " or newer");
        }
        return nccl;
    }


    /** Where the library was loaded from. */
    public String origin() {
        return origin;
    }

    /** {@code NCCL_VERSION_CODE} of the loaded library, e.g. 22602 for 2.26.2. */
    public int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check("ncclGetVersion", (int) getVersion.invokeExact(out), null);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** "2.26.2" for 22602; codes before 2.9 used {@code major*1000 + minor*100 + patch}. */
    public static String versionName(int code) {
        if (code < 20900) {
            return (code / 1000) + "." + (code % 1000 / 100) + "." + (code % 100);
        }
        return (code / 10000) + "." + (code % 10000 / 100) + "." + (code % 100);
    }

    /**
     * A new {@code ncclUniqueId} (rank 0 makes it, every rank passes it to {@link #commInitRank}). It embeds the
     * address of a bootstrap listener NCCL starts in this process; it needs no GPU.
     */
    public byte[] uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(UNIQUE_ID);
            check("ncclGetUniqueId", (int) getUniqueId.invokeExact(id), null);
            return id.toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /**
     * Joins the communicator of {@code nranks} ranks named by {@code uniqueId}, on the calling thread's
     * current CUDA device; blocks until all ranks have joined.
     *
     * @return the {@code ncclComm_t} handle
     * @throws NcclException when NCCL reports an error (no CUDA driver: {@link #UNHANDLED_CUDA_ERROR})
     */
    public MemorySegment commInitRank(int nranks, byte[] uniqueId, int rank) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an ncclUniqueId has " + UNIQUE_ID_BYTES + " bytes, got " + uniqueId.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comm = arena.allocate(ADDRESS);
            MemorySegment id = arena.allocate(UNIQUE_ID);
            MemorySegment.copy(uniqueId, 0, id, JAVA_BYTE, 0, UNIQUE_ID_BYTES);
            int result = (int) commInitRank.invokeExact(comm, nranks, id, rank);
            check("ncclCommInitRank", result, null);
            return comm.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /**
     * Enqueues an in-place fp32 sum of {@code count} elements at device address {@code buffer} on
     * {@code stream} ({@link MemorySegment#NULL}: the legacy default stream, PyTorch's default). Returns
     * when the operation is enqueued, not when it is done.
     */
    public void allReduceSumFloat32InPlace(long buffer, long count, MemorySegment comm, MemorySegment stream) {
        MemorySegment data = MemorySegment.ofAddress(buffer);
        try {
            check("ncclAllReduce", (int) allReduce.invokeExact(data, data, count, FLOAT32, SUM, comm, stream), comm);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** The communicator's asynchronous state: {@link #SUCCESS}, {@link #IN_PROGRESS}, or an error. */
    public int commGetAsyncError(MemorySegment comm) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check("ncclCommGetAsyncError", (int) commGetAsyncError.invokeExact(comm, out), comm);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** Stops the communicator's kernels and frees it without waiting for peers; returns the result code. */
    public int commAbort(MemorySegment comm) {
        try {
            return (int) commAbort.invokeExact(comm);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** Frees the communicator after its work is done; returns the result code. */
    public int commDestroy(MemorySegment comm) {
        try {
            return (int) commDestroy.invokeExact(comm);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** NCCL's text for a result code. */
    public String errorString(int result) {
        try {
            return NativeCalls.cString((MemorySegment) getErrorString.invokeExact(result)).orElse("ncclResult " + result);
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** NCCL's description of the last error of {@code comm} (or of the last failed call without one: NULL). */
    public String lastError(MemorySegment comm) {
        // a local, not a conditional expression: invokeExact would see the conditional typed as Object
        MemorySegment handle = comm == null ? MemorySegment.NULL : comm;
        try {
            return NativeCalls.cString((MemorySegment) getLastError.invokeExact(handle)).orElse("");
        } catch (Throwable t) {
            throw NativeCalls.rethrow(t);
        }
    }

    /** Throws {@link NcclException} for an error result, with NCCL's text and its last-error detail. */
    void check(String call, int result, MemorySegment comm) {
        if (result == SUCCESS || result == IN_PROGRESS) {
            return;
        }
        throw new NcclException(call, result, describe(call, result, comm));
    }

    /** "ncclCommInitRank failed: unhandled cuda error (...): Cuda failure '...'". */
    public String describe(String call, int result, MemorySegment comm) {
        String detail = lastError(comm);
        return call + " failed: " + errorString(result) + (detail.isBlank() ? "" : ": " + detail.strip());
    }
}
