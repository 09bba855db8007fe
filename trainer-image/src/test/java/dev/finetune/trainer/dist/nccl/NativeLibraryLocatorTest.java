package dev.finetune.trainer.dist.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.trainer.dist.GpuEnvironmentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryLocatorTest {

    @TempDir
    Path tmp;

    /** A spec for a library no machine has, so the system loader cannot rescue the search. */
    private static final NativeLibraryLocator.Spec NOWHERE = new NativeLibraryLocator.Spec("test library",
            "FINETUNE_TEST_LIBRARY", "testlib", List.of("libfinetune-absent-test.so.9"), "install it");

    @Test
    void searchesNextToPytorchThenTheJnaPathThenLdLibraryPath() {
        var locator = new NativeLibraryLocator(Map.of(
                "PYTORCH_LIBRARY_PATH", "/opt/conda/lib/python3.11/site-packages/torch/lib",
                "LD_LIBRARY_PATH", "/usr/local/nvidia/lib64::/usr/local/cuda/lib64"),
                "/opt/conda/lib/python3.11/site-packages/nvidia/cuda_runtime/lib:/usr/local/cuda/lib64");
        assertThat(locator.searchDirectories(NcclLibrary.SPEC)).containsExactly(
                Path.of("/opt/conda/lib/python3.11/site-packages/torch/lib"),
                Path.of("/opt/conda/lib/python3.11/site-packages/nvidia/nccl/lib"),
                Path.of("/opt/conda/lib/python3.11/site-packages/nvidia/cuda_runtime/lib"),
                Path.of("/usr/local/cuda/lib64"),
                Path.of("/usr/local/nvidia/lib64"));
        assertThat(locator.searchDirectories(CudaRuntime.SPEC)).startsWith(
                Path.of("/opt/conda/lib/python3.11/site-packages/torch/lib"),
                Path.of("/opt/conda/lib/python3.11/site-packages/nvidia/cuda_runtime/lib"));
    }

    @Test
    void missingLibraryNamesEveryPlaceTriedAndTheFix() {
        var locator = new NativeLibraryLocator(Map.of("PYTORCH_LIBRARY_PATH", tmp.resolve("sp/torch/lib").toString()), null);
        assertThatThrownBy(() -> locator.locate(NOWHERE))
                .isInstanceOf(GpuEnvironmentException.class)
                .hasMessageStartingWith("test library not found; tried ")
                .hasMessageContaining(tmp.resolve("sp/torch/lib/libfinetune-absent-test.so.9") + ": no such file")
                .hasMessageContaining(tmp.resolve("sp/nvidia/testlib/lib/libfinetune-absent-test.so.9") + ": no such file")
                .hasMessageContaining("libfinetune-absent-test.so.9 via the system loader: not found")
                .hasMessageEndingWith("Fix: install it");
    }

    @Test
    void anOverrideIsTheOnlyCandidateAndAWrongOneIsReported() {
        Path missing = tmp.resolve("nope/libnccl.so.2");
        var locator = new NativeLibraryLocator(Map.of("FINETUNE_NCCL_LIBRARY", missing.toString(),
                "PYTORCH_LIBRARY_PATH", "/opt/conda/lib/python3.11/site-packages/torch/lib"), null);
        assertThatThrownBy(() -> NcclLibrary.load(locator))
                .isInstanceOf(GpuEnvironmentException.class)
                .hasMessageContaining(missing + ": no such file")
                .hasMessageContaining("FINETUNE_NCCL_LIBRARY=" + missing + " names no loadable library")
                .hasMessageNotContaining("site-packages");
    }

    @Test
    void aFileThatIsNoLibraryIsReportedAndTheSearchGoesOn() throws Exception {
        Path torchLib = Files.createDirectories(tmp.resolve("site-packages/torch/lib"));
        Files.writeString(torchLib.resolve("libfinetune-absent-test.so.9"), "not an ELF file");
        var locator = new NativeLibraryLocator(Map.of("PYTORCH_LIBRARY_PATH", torchLib.toString()), null);
        assertThatThrownBy(() -> locator.locate(NOWHERE))
                .isInstanceOf(GpuEnvironmentException.class)
                .hasMessageContaining(torchLib.resolve("libfinetune-absent-test.so.9") + ": not a shared library (no ELF header)")
                .hasMessageContaining("site-packages/nvidia/testlib/lib/libfinetune-absent-test.so.9: no such file");
    }

    @Test
    void findsTheLibraryInThePipWheelDirectoryBesideTorch() throws Exception {
        // any real shared library stands in for the wheel's file; the JVM's own libjava is always there
        Path real = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
        Path wheelLib = Files.createDirectories(tmp.resolve("site-packages/nvidia/testlib/lib"));
        Files.createSymbolicLink(wheelLib.resolve("libfinetune-absent-test.so.9"), real);
        var locator = new NativeLibraryLocator(
                Map.of("PYTORCH_LIBRARY_PATH", tmp.resolve("site-packages/torch/lib").toString()), null);
        NativeLibraryLocator.Located found = locator.locate(NOWHERE);
        assertThat(found.origin()).isEqualTo(wheelLib.resolve("libfinetune-absent-test.so.9").toString());
        assertThat(found.symbols().find("JNU_ThrowByName")).isPresent();
    }

    @Test
    void versionCodesReadAsNcclPrintsThem() {
        assertThat(NcclLibrary.versionName(22602)).isEqualTo("2.26.2");
        assertThat(NcclLibrary.versionName(21903)).isEqualTo("2.19.3");
        assertThat(NcclLibrary.versionName(2804)).isEqualTo("2.8.4");
    }
}
