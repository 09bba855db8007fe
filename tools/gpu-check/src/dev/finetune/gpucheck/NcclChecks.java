package dev.finetune.gpucheck;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.dist.CommunicationException;
import dev.finetune.trainer.dist.FlatFloat32;
import dev.finetune.trainer.dist.NcclCollective;
import dev.finetune.trainer.dist.nccl.CudaRuntime;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import dev.finetune.trainer.dist.nccl.NcclLibrary;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;

/** NCCL from Java as the trainer's data parallelism uses it, on one GPU (NCCL refuses two ranks on one device). */
final class NcclChecks {

    private NcclChecks() {}

    /** libnccl and libcudart found the way the trainer finds them (FINETUNE_NCCL_LIBRARY, the wheel layout, ...). */
    static Map<String, Object> libraries() {
        NativeLibraryLocator locator = NativeLibraryLocator.ofProcess();
        NcclLibrary nccl = NcclLibrary.load(locator);
        CudaRuntime cuda = CudaRuntime.load(locator);
        Report.require(nccl.version() >= NcclLibrary.MINIMUM_VERSION, "NCCL " + NcclLibrary.versionName(nccl.version())
                + " is older than the trainer's minimum " + NcclLibrary.versionName(NcclLibrary.MINIMUM_VERSION));
        return Report.figures("nccl", NcclLibrary.versionName(nccl.version()), "ncclFile", nccl.origin(), "cudartFile",
                cuda.origin());
    }

    /**
     * A one-rank communicator, an in-place all-reduce on a CUDA tensor's device memory on stream 0, completion seen
     * by polling cudaStreamQuery, ncclCommGetAsyncError clean on every poll, the values intact afterwards.
     */
    static Map<String, Object> allReduce(NDManager gpu) {
        NativeLibraryLocator locator = NativeLibraryLocator.ofProcess();
        NcclLibrary nccl = NcclLibrary.load(locator);
        CudaRuntime cuda = CudaRuntime.load(locator);
        cuda.setDevice(0);
        long started = System.nanoTime();
        MemorySegment comm = nccl.commInitRank(1, nccl.uniqueId(), 0);
        double initSeconds = (System.nanoTime() - started) / 1e9;
        int polls = 0;
        try (NDManager m = gpu.newSubManager()) {
            float[] values = EngineChecks.random(1 << 20, 11);
            NDArray flat = m.create(values);
            long address = FlatFloat32.address(flat);
            long enqueued = System.nanoTime();
            nccl.allReduceSumFloat32InPlace(address, values.length, comm, CudaRuntime.DEFAULT_STREAM);
            while (true) {
                polls++;
                int async = nccl.commGetAsyncError(comm);
                Report.require(async == NcclLibrary.SUCCESS || async == NcclLibrary.IN_PROGRESS,
                        nccl.describe("ncclCommGetAsyncError", async, comm));
                int state = cuda.streamQuery(CudaRuntime.DEFAULT_STREAM);
                if (state == CudaRuntime.SUCCESS) {
                    break;
                }
                Report.require(state == CudaRuntime.ERROR_NOT_READY, "cudaStreamQuery: " + cuda.errorString(state));
                Report.require(System.nanoTime() - enqueued < 30_000_000_000L, "the all-reduce did not complete within 30 s");
                Thread.onSpinWait();
            }
            double reduceSeconds = (System.nanoTime() - enqueued) / 1e9;
            Report.require(FlatFloat32.address(flat) == address, "the tensor moved during the all-reduce");
            float[] after = flat.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                Report.require(after[i] == values[i], "element " + i + " is " + after[i] + " after a one-rank sum, was " + values[i]);
            }
            return Report.figures("nccl", NcclLibrary.versionName(nccl.version()), "floats", values.length, "initSeconds",
                    initSeconds, "allReduceSeconds", reduceSeconds, "streamQueryPolls", polls);
        } finally {
            int result = nccl.commDestroy(comm);
            Report.require(result == NcclLibrary.SUCCESS, "ncclCommDestroy: " + nccl.errorString(result));
        }
    }

    /**
     * The watchdog: an all-reduce queued behind seconds of GPU work on stream 0 exceeds the collective timeout,
     * so {@link NcclCollective} aborts the communicator and throws; a later all-reduce is refused.
     *
     * <p>The work is large matmuls (16384 x 16384 fp32, ~9 TFLOP each), twice the timeout's worth: few enough
     * kernels that CUDA's launch queue (about a thousand pending launches) never makes the enqueueing thread
     * wait, so the queued work outlasts the timeout whatever the GPU's speed. The timeout also bounds the
     * communicator's init, which takes well under a second for one rank.
     */
    static Map<String, Object> watchdog(NDManager gpu) throws IOException {
        Duration timeout = Duration.ofSeconds(3);
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        NcclCollective collective = NcclCollective.connect(new NcclCollective.Settings(0, 1, "127.0.0.1", port, 0,
                Duration.ofSeconds(60), timeout), NativeLibraryLocator.ofProcess());
        try (NDManager m = gpu.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(16384, 16384));
            double perMatmul = matmulSeconds(a, 3);
            int queued = (int) Math.min(900, Math.ceil(2.0 * timeout.toMillis() / 1000 / perMatmul));
            Report.require(queued * perMatmul > 1.2 * timeout.toMillis() / 1000, "the GPU is too fast for this check: "
                    + queued + " matmuls of " + perMatmul + " s do not outlast the " + timeout.toSeconds() + " s timeout");
            queueMatmuls(a, queued);
            NDArray flat = m.zeros(new Shape(1024));
            long started = System.nanoTime();
            String first = null;
            try {
                collective.allReduceSumInPlace(flat);
            } catch (CommunicationException e) {
                first = e.getMessage();
            }
            double waited = (System.nanoTime() - started) / 1e9;
            Report.require(first != null, "the all-reduce behind " + queued + " queued matmuls returned instead of timing out");
            Report.require(first.contains("did not finish within") && first.contains("NCCL communicator aborted"),
                    "unexpected failure: " + first);
            Report.require(waited >= 0.9 * timeout.toMillis() / 1000, "the watchdog fired after " + waited + " s, before the timeout");
            String second = null;
            try {
                collective.allReduceSumInPlace(flat);
            } catch (CommunicationException e) {
                second = e.getMessage();
            }
            Report.require(second != null && second.contains("was aborted"), "after the abort, an all-reduce gave: " + second);
            a.sum().toFloatArray(); // drain stream 0 before the next check
            return Report.figures("timeoutSeconds", timeout.toSeconds(), "queuedMatmuls", queued, "secondsPerMatmul",
                    perMatmul, "secondsUntilAbort", waited, "error", first);
        } finally {
            collective.close();
        }
    }

    private static double matmulSeconds(NDArray a, int n) {
        a.matMul(a).sum().toFloatArray(); // warm up (cuBLAS handle, allocator)
        long started = System.nanoTime();
        queueMatmuls(a, n);
        a.sum().toFloatArray();
        return (System.nanoTime() - started) / 1e9 / n;
    }

    private static void queueMatmuls(NDArray a, int n) {
        for (int i = 0; i < n; i++) {
            try (NDArray product = a.matMul(a)) {
                // freed at once: the caching allocator reuses the block for the next product, in stream order
            }
        }
    }
}
