package dev.finetune.trainer.dist;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import dev.finetune.trainer.dist.nccl.CudaRuntime;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import dev.finetune.trainer.dist.nccl.NcclException;
import dev.finetune.trainer.dist.nccl.NcclLibrary;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Data parallelism across GPUs: one process per GPU; the LoRA gradients of a step (one flat fp32 tensor on
 * the process's GPU) are summed with an in-place NCCL all-reduce on the device memory.
 *
 * <p>The gang first forms a {@link TcpCollective} (the same rendezvous CPU workers use); rank 0 makes the
 * {@code ncclUniqueId} and sends it over that connection, and every rank joins the NCCL communicator. The
 * TCP group keeps carrying the small fp64 sums (label-token counts, NLL, stop flags, eval sums), exactly as
 * on CPU, so those stay rank-ordered and bit-identical; only gradients go through NCCL.
 *
 * <p>The all-reduce is enqueued on CUDA's legacy default stream (stream 0), where PyTorch runs DJL's
 * kernels, so it starts after the kernels that produced the gradients and the kernels that read the sums
 * start after it. The call then polls the stream and {@code ncclCommGetAsyncError} until the reduction is
 * done: a peer that died or hangs shows up as an NCCL error or as the collective timeout, the communicator
 * is aborted (which stops its kernels) and a {@link CommunicationException} ends the run (retryable: the
 * operator restarts the gang from the last checkpoint).
 */
public final class NcclCollective implements Collective {

    /** Where this process sits in the gang, and how long to wait. */
    public record Settings(int rank, int world, String rendezvousHost, int rendezvousPort, int localRank,
            Duration rendezvousTimeout, Duration collectiveTimeout) {}

    private final TcpCollective tcp;
    private final NcclLibrary nccl;
    private final CudaRuntime cuda;
    private final int gpu;
    private final Duration timeout;
    private MemorySegment comm;

    private NcclCollective(TcpCollective tcp, NcclLibrary nccl, CudaRuntime cuda, int gpu, Duration timeout,
            MemorySegment comm) {
        this.tcp = tcp;
        this.nccl = nccl;
        this.cuda = cuda;
        this.gpu = gpu;
        this.timeout = timeout;
        this.comm = comm;
    }

    /**
     * Checks this machine can run the process (libnccl, libcudart, GPU {@code localRank}, a CUDA libtorch),
     * selects the GPU, forms the TCP group and joins the NCCL communicator.
     *
     * @throws GpuEnvironmentException when the machine or image cannot run a GPU process (permanent)
     * @throws CommunicationException when the rendezvous or the communicator init fails or times out
     */
    public static NcclCollective connect(Settings settings, NativeLibraryLocator locator) {
        NcclLibrary nccl = NcclLibrary.load(locator);
        CudaRuntime cuda = CudaRuntime.load(locator);
        selectGpu(cuda, settings.localRank());
        requireCudaEngine();
        TcpCollective tcp = TcpCollective.connect(settings.rank(), settings.world(), settings.rendezvousHost(),
                settings.rendezvousPort(), settings.rendezvousTimeout(), settings.collectiveTimeout());
        try {
            byte[] id = tcp.broadcastFromRankZero(settings.rank() == 0 ? nccl.uniqueId() : null);
            MemorySegment comm = joinCommunicator(nccl, cuda, settings, id);
            return new NcclCollective(tcp, nccl, cuda, settings.localRank(), settings.collectiveTimeout(), comm);
        } catch (RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    /**
     * Refuses a libtorch without CUDA: without {@code PYTORCH_LIBRARY_PATH} and {@code PYTORCH_FLAVOR} DJL
     * silently loads the CPU build from its jar, and creating a GPU array would then fail deep inside the
     * model load.
     *
     * @throws GpuEnvironmentException when the loaded PyTorch engine has no CUDA support
     */
    static void requireCudaEngine() {
        Engine engine = Engine.getEngine("PyTorch");
        if (!engine.hasCapability(StandardCapabilities.CUDA)) {
            throw new GpuEnvironmentException("the loaded libtorch " + engine.getVersion() + " has no CUDA support "
                    + "(DJL loaded its CPU build). Fix: run the trainer's CUDA image, or set PYTORCH_LIBRARY_PATH="
                    + "<site-packages>/torch/lib, PYTORCH_FLAVOR=cu128 and PYTORCH_VERSION=2.7.1");
        }
    }

    private static void selectGpu(CudaRuntime cuda, int localRank) {
        int devices = cuda.deviceCount();
        if (localRank < 0 || localRank >= devices) {
            throw new GpuEnvironmentException("LOCAL_RANK " + localRank + " needs GPU " + localRank + " but "
                    + devices + " GPU(s) are visible (CUDA_VISIBLE_DEVICES=" + System.getenv("CUDA_VISIBLE_DEVICES")
                    + "). Fix: start one process per GPU granted to the pod (LOCAL_RANK 0.." + Math.max(0, devices - 1) + ")");
        }
        cuda.setDevice(localRank);
    }

    /**
     * ncclCommInitRank blocks until every rank has joined; it runs on its own thread so a rank that never
     * arrives ends in a timeout instead of a hang (the blocked daemon thread ends with the process).
     */
    private static MemorySegment joinCommunicator(NcclLibrary nccl, CudaRuntime cuda, Settings settings, byte[] id) {
        CompletableFuture<MemorySegment> joined = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("nccl-init-rank-" + settings.rank()).start(() -> {
            try {
                cuda.setDevice(settings.localRank()); // the current device is per thread
                joined.complete(nccl.commInitRank(settings.world(), id, settings.rank()));
            } catch (Throwable t) {
                joined.completeExceptionally(t);
            }
        });
        String where = "rank " + settings.rank() + " of " + settings.world() + " (GPU " + settings.localRank() + ")";
        try {
            return joined.get(settings.collectiveTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new CommunicationException("NCCL communicator init did not complete within "
                    + settings.collectiveTimeout().toSeconds() + " s on " + where + "; a peer did not join", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommunicationException("interrupted while joining the NCCL communicator on " + where, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NcclException failure) {
                if (failure.peerOrNetwork()) {
                    throw new CommunicationException(failure.getMessage() + " on " + where, failure);
                }
                throw new GpuEnvironmentException(failure.getMessage() + " on " + where + " (NCCL "
                        + NcclLibrary.versionName(nccl.version()) + " from " + nccl.origin() + "). Run with "
                        + "NCCL_DEBUG=INFO for NCCL's own account", failure);
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("NCCL communicator init failed on " + where, e.getCause());
        }
    }

    /** The GPU this process trains on. */
    public Device device() {
        return Device.gpu(gpu);
    }

    @Override
    public int rank() {
        return tcp.rank();
    }

    @Override
    public int worldSize() {
        return tcp.worldSize();
    }

    /** Small sums (counts, NLL, flags) go over TCP in fp64, rank order, exactly as on CPU. */
    @Override
    public double[] allReduceSum(double[] values) {
        return tcp.allReduceSum(values);
    }

    @Override
    public float[] allReduceSum(float[] values) {
        return tcp.allReduceSum(values);
    }

    /** Sums {@code flat}, a contiguous fp32 vector on this process's GPU, over all ranks in place with NCCL. */
    @Override
    public void allReduceSumInPlace(NDArray flat) {
        FlatFloat32.require(flat);
        Device device = flat.getDevice();
        if (!device.isGpu() || device.getDeviceId() != gpu) {
            throw new IllegalArgumentException("the NCCL communicator reduces memory of GPU " + gpu
                    + ", but the buffer is on " + device);
        }
        long address = FlatFloat32.address(flat);
        if (comm == null) {
            throw new CommunicationException("the NCCL communicator was aborted after an earlier failure", null);
        }
        cuda.setDevice(gpu);
        try {
            nccl.allReduceSumFloat32InPlace(address, flat.size(), comm, CudaRuntime.DEFAULT_STREAM);
        } catch (NcclException e) {
            throw abort(e.getMessage() + " on rank " + rank(), e);
        }
        awaitCompletion(flat.size());
    }

    /**
     * Waits for stream 0 (and so the all-reduce) to finish, watching the communicator's async error and the
     * timeout; a short spin first (small LoRA reductions finish in microseconds), then back-off to 1 ms.
     */
    private void awaitCompletion(long count) {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        long pauseNanos = 1_000;
        while (true) {
            int state = cuda.streamQuery(CudaRuntime.DEFAULT_STREAM);
            if (state == CudaRuntime.SUCCESS) {
                return;
            }
            if (state != CudaRuntime.ERROR_NOT_READY) {
                throw abort("CUDA error while the gradient all-reduce ran on rank " + rank() + ": "
                        + cuda.errorString(state) + " (cudaError " + state + ")", null);
            }
            int async = nccl.commGetAsyncError(comm);
            if (async != NcclLibrary.SUCCESS && async != NcclLibrary.IN_PROGRESS) {
                throw abort(nccl.describe("gradient all-reduce (NCCL async error)", async, comm) + " on rank "
                        + rank(), null);
            }
            if (System.nanoTime() - deadline > 0) {
                throw abort("the gradient all-reduce of " + count + " floats did not finish within "
                        + timeout.toSeconds() + " s on rank " + rank() + " of " + worldSize()
                        + " (a peer stopped or the network failed; " + GangTimeouts.COLLECTIVE_VARIABLE + " sets the limit)",
                        null);
            }
            LockSupport.parkNanos(pauseNanos);
            pauseNanos = Math.min(pauseNanos * 2, 1_000_000);
        }
    }

    /** Aborts the communicator (stops its kernels, never waits for peers) and names the failure. */
    private CommunicationException abort(String message, Throwable cause) {
        MemorySegment c = comm;
        comm = null;
        if (c != null) {
            int result = nccl.commAbort(c);
            if (result != NcclLibrary.SUCCESS) {
                message += "; ncclCommAbort also failed: " + nccl.errorString(result);
            }
        }
        return new CommunicationException(message + "; NCCL communicator aborted", cause);
    }

    /**
     * Releases the communicator with ncclCommAbort: nothing is pending (every all-reduce is awaited), and
     * unlike ncclCommDestroy it never waits for peers, which may already be gone when a run fails.
     */
    @Override
    public void close() {
        MemorySegment c = comm;
        comm = null;
        try {
            if (c != null) {
                nccl.commAbort(c);
            }
        } finally {
            tcp.close();
        }
    }
}
