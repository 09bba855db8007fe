package dev.finetune.trainer.dist.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.trainer.dist.GpuEnvironmentException;
import dev.finetune.trainer.dist.NcclCollective;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FFM bindings against NVIDIA's real libnccl 2.26.2 and libcudart 12.8 (the pip wheels PyTorch 2.7.1
 * uses), on a machine without a GPU: every call that needs no device is checked for its real answer, and
 * the calls that do need one must fail with our error instead of crashing the JVM. Run with {@code -Pnccl},
 * which fetches the wheels (src/test/fetch-cuda-libs.sh).
 */
class RealNcclIT {

    static final String NCCL_VERSION = "2.26.2";

    static Path ncclFile;
    static Path cudartFile;
    static NcclLibrary nccl;
    static CudaRuntime cuda;

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadTheWheelsLibraries() {
        ncclFile = CudaWheels.nccl();
        cudartFile = CudaWheels.cudart();
        assertThat(ncclFile).as("run trainer-image/src/test/fetch-cuda-libs.sh (the nccl profile does)").isRegularFile();
        assertThat(cudartFile).as("run trainer-image/src/test/fetch-cuda-libs.sh (the nccl profile does)").isRegularFile();
        var locator = new NativeLibraryLocator(Map.of("FINETUNE_NCCL_LIBRARY", ncclFile.toString(),
                "FINETUNE_CUDART_LIBRARY", cudartFile.toString()), null);
        nccl = NcclLibrary.load(locator);
        cuda = CudaRuntime.load(locator);
    }

    @Test
    void versionIsTheWheels() {
        assertThat(nccl.origin()).isEqualTo(ncclFile.toString());
        assertThat(nccl.version()).isEqualTo(22602);
        assertThat(NcclLibrary.versionName(nccl.version())).isEqualTo(NCCL_VERSION);
    }

    @Test
    void errorStringsAreNcclsOwn() {
        assertThat(nccl.errorString(NcclLibrary.SUCCESS)).isEqualTo("no error");
        assertThat(nccl.errorString(NcclLibrary.UNHANDLED_CUDA_ERROR)).startsWith("unhandled cuda error");
        assertThat(nccl.errorString(NcclLibrary.REMOTE_ERROR)).isEqualTo("remote process exited or there was a network error");
        assertThat(nccl.errorString(NcclLibrary.IN_PROGRESS)).isEqualTo("NCCL operation in progress");
    }

    @Test
    void uniqueIdNeedsNoGpu() {
        byte[] first = nccl.uniqueId();
        byte[] second = nccl.uniqueId();
        assertThat(first).hasSize(NcclLibrary.UNIQUE_ID_BYTES);
        assertThat(first).as("an id carries a bootstrap address and a random magic").isNotEqualTo(new byte[128]);
        assertThat(second).as("each id names a new communicator").isNotEqualTo(first);
    }

    @Test
    void communicatorCallsOnANullCommAreRefusedNotCrashed() {
        assertThatThrownBy(() -> nccl.commGetAsyncError(MemorySegment.NULL))
                .isInstanceOf(NcclException.class)
                .hasMessageContaining("ncclCommGetAsyncError failed: invalid argument")
                .hasMessageContaining("comm argument is NULL")
                .satisfies(e -> assertThat(((NcclException) e).result()).isEqualTo(NcclLibrary.INVALID_ARGUMENT));
    }

    @Test
    void communicatorInitWithoutACudaDriverIsACleanError() {
        assertThatThrownBy(cuda::deviceCount).as("this suite runs where there is no GPU")
                .isInstanceOf(GpuEnvironmentException.class);
        byte[] id = nccl.uniqueId();
        assertThatThrownBy(() -> nccl.commInitRank(1, id, 0))
                .isInstanceOf(NcclException.class)
                .hasMessageStartingWith("ncclCommInitRank failed: unhandled cuda error")
                .hasMessageContaining("CUDA driver version is insufficient for CUDA runtime version")
                .satisfies(e -> {
                    NcclException n = (NcclException) e;
                    assertThat(n.result()).isEqualTo(NcclLibrary.UNHANDLED_CUDA_ERROR);
                    assertThat(n.peerOrNetwork()).as("a CUDA failure is not cured by a gang restart").isFalse();
                });
        assertThatThrownBy(() -> nccl.commInitRank(1, Arrays.copyOf(id, 64), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("128 bytes, got 64");
    }

    @Test
    void cudaRuntimeReportsTheMissingDriver() {
        assertThat(cuda.errorString(CudaRuntime.ERROR_NOT_READY)).isEqualTo("device not ready");
        assertThatThrownBy(cuda::deviceCount)
                .isInstanceOf(GpuEnvironmentException.class)
                .hasMessage("CUDA is not usable on this machine: cudaGetDeviceCount: CUDA driver version is insufficient "
                        + "for CUDA runtime version (cudaError 35). A GPU worker needs a node with an NVIDIA driver and the "
                        + "GPU resource (nvidia.com/gpu) granted to the pod");
        assertThatThrownBy(() -> cuda.setDevice(0)).isInstanceOf(GpuEnvironmentException.class)
                .hasMessageContaining("cudaSetDevice(0): CUDA driver version is insufficient");
    }

    @Test
    void pytorchsSitePackagesLayoutIsFound() throws Exception {
        Path sitePackages = tmp.resolve("lib/python3.11/site-packages");
        Files.createDirectories(sitePackages.resolve("torch/lib"));
        Path ncclLib = Files.createDirectories(sitePackages.resolve("nvidia/nccl/lib"));
        Path cudartLib = Files.createDirectories(sitePackages.resolve("nvidia/cuda_runtime/lib"));
        Files.createSymbolicLink(ncclLib.resolve("libnccl.so.2"), ncclFile);
        Files.createSymbolicLink(cudartLib.resolve("libcudart.so.12"), cudartFile);
        var locator = new NativeLibraryLocator(Map.of("PYTORCH_LIBRARY_PATH", sitePackages.resolve("torch/lib").toString()), null);
        NcclLibrary found = NcclLibrary.load(locator);
        assertThat(found.origin()).isEqualTo(ncclLib.resolve("libnccl.so.2").toString());
        assertThat(found.version()).isEqualTo(22602);
        assertThat(CudaRuntime.load(locator).origin()).isEqualTo(cudartLib.resolve("libcudart.so.12").toString());
    }

    @Test
    void aGangMemberWithoutAGpuStopsBeforeTheRendezvous() {
        var locator = new NativeLibraryLocator(Map.of("FINETUNE_NCCL_LIBRARY", ncclFile.toString(),
                "FINETUNE_CUDART_LIBRARY", cudartFile.toString()), null);
        var settings = new NcclCollective.Settings(1, 2, "127.0.0.1", 1, 0, Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThatThrownBy(() -> NcclCollective.connect(settings, locator))
                .isInstanceOf(GpuEnvironmentException.class)
                .hasMessageStartingWith("CUDA is not usable on this machine");
    }
}
