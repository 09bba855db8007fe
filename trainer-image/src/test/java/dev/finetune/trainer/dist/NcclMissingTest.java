package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GPU gang member on a machine without libnccl stops at once with BAD_CONFIG, never a JVM abort or a hang. */
class NcclMissingTest {

    @TempDir
    Path tmp;

    @Test
    void gpuWorkerWithoutNcclFailsWithBadConfigNamingWhatWasSearched() throws Exception {
        Path missing = tmp.resolve("no/libnccl.so.2");
        GpuGangSetupTest.Exit exit = GpuGangSetupTest.runRankZero(tmp, Map.of("FINETUNE_NCCL_LIBRARY", missing.toString()));
        assertThat(exit.code()).as(exit.log()).isEqualTo(78);
        List<String> failure = GpuGangSetupTest.failure(exit);
        assertThat(failure.get(0)).isEqualTo("FAILED");
        assertThat(failure.get(1)).isEqualTo("BAD_CONFIG");
        assertThat(failure.get(2)).contains("rank 0: this machine cannot run a GPU worker: NCCL (libnccl.so.2) not found",
                missing + ": no such file", "FINETUNE_NCCL_LIBRARY=" + missing + " names no loadable library");
        assertThat(exit.log()).contains("finetune: BAD_CONFIG").doesNotContain("connected");
    }
}
