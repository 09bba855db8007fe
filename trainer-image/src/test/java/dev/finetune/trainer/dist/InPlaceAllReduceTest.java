package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.testing.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The host path of {@link Collective#allReduceSumInPlace} that CPU workers (TCP) use. */
class InPlaceAllReduceTest {

    @Test
    void everyRankGetsTheRankOrderedSumWrittenIntoItsOwnTensor() throws Exception {
        int world = 3;
        int port = DataParallelTest.freePort();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<float[][]>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (TcpCollective c = TcpCollective.connect(rank, world, "127.0.0.1", port, Duration.ofSeconds(20));
                            NDManager m = Engine.manager().newSubManager()) {
                        // 0.1f + 0.2f + 0.3f differs in fp32 and fp64 accumulation: the sum is fp64, rounded once
                        NDArray flat = m.create(new float[] {rank + 1, 0.1f * (rank + 1), 1e8f * (rank == 0 ? 1 : 0), -rank});
                        NDArray view = flat.get(new NDIndex("0:2")).reshape(new Shape(1, 2));
                        c.allReduceSumInPlace(flat);
                        return new float[][] {flat.toFloatArray(), view.toFloatArray()};
                    }
                }));
            }
            float expectedTenths = (float) ((double) 0.1f + (double) 0.2f + (double) (0.1f * 3));
            for (Future<float[][]> f : results) {
                float[][] got = f.get(30, TimeUnit.SECONDS);
                assertThat(got[0]).containsExactly(6f, expectedTenths, 1e8f, -3f);
                assertThat(got[1]).as("views of the buffer see the sums: the reduction is in place")
                        .containsExactly(6f, expectedTenths);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void oneProcessKeepsItsValuesAndStillChecksTheBuffer() {
        try (NDManager m = Engine.manager().newSubManager()) {
            NDArray flat = m.create(new float[] {1.5f, -2f});
            Collective.single().allReduceSumInPlace(flat);
            assertThat(flat.toFloatArray()).containsExactly(1.5f, -2f);
            assertThatThrownBy(() -> Collective.single().allReduceSumInPlace(m.create(new double[] {1})))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float32");
        }
    }

    @Test
    void collectiveTimeoutComesFromTheOperatorsVariable() {
        assertThat(GangTimeouts.collective(java.util.Map.of())).isEqualTo(Duration.ofMinutes(30));
        assertThat(GangTimeouts.collective(java.util.Map.of(GangTimeouts.COLLECTIVE_VARIABLE, " 90 ")))
                .isEqualTo(Duration.ofSeconds(90));
        assertThatThrownBy(() -> GangTimeouts.collective(java.util.Map.of(GangTimeouts.COLLECTIVE_VARIABLE, "30m")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FINETUNE_COLLECTIVE_TIMEOUT_SECONDS=30m is not a number of seconds");
        assertThatThrownBy(() -> GangTimeouts.collective(java.util.Map.of(GangTimeouts.COLLECTIVE_VARIABLE, "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }

    @Test
    void rendezvousTimeoutComesFromTheOperatorsVariable() {
        assertThat(GangTimeouts.rendezvous(java.util.Map.of())).isEqualTo(Duration.ofMinutes(15));
        assertThat(GangTimeouts.rendezvous(java.util.Map.of(GangTimeouts.RENDEZVOUS_VARIABLE, "900")))
                .isEqualTo(Duration.ofSeconds(900));
        assertThatThrownBy(() -> GangTimeouts.rendezvous(java.util.Map.of(GangTimeouts.RENDEZVOUS_VARIABLE, "-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("FINETUNE_RENDEZVOUS_TIMEOUT_SECONDS=-1 must be a positive number of seconds (e.g. 900)");
    }
}
