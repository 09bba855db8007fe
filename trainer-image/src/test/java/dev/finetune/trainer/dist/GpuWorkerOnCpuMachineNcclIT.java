package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.trainer.dist.nccl.CudaWheels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole worker, with the real libnccl and libcudart found, on a machine without a GPU: it must end with
 * BAD_CONFIG and CUDA's own reason, not a JVM abort and not a wait for peers (-Pnccl).
 */
class GpuWorkerOnCpuMachineNcclIT {

    @TempDir
    Path tmp;

    @Test
    void workerWithRealLibrariesButNoDriverFailsWithBadConfig() throws Exception {
        GpuGangSetupTest.Exit exit = GpuGangSetupTest.runRankZero(tmp, Map.of(
                "FINETUNE_NCCL_LIBRARY", CudaWheels.nccl().toString(),
                "FINETUNE_CUDART_LIBRARY", CudaWheels.cudart().toString()));
        assertThat(exit.code()).as(exit.log()).isEqualTo(78);
        List<String> failure = GpuGangSetupTest.failure(exit);
        assertThat(failure.subList(0, 2)).containsExactly("FAILED", "BAD_CONFIG");
        assertThat(failure.get(2)).startsWith("rank 0: this machine cannot run a GPU worker: CUDA is not usable on this "
                + "machine: cudaGetDeviceCount: CUDA driver version is insufficient for CUDA runtime version");
    }
}
