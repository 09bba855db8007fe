package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the NCCL setup needs from the TCP group: rank 0's bytes on every rank, and no endless wait. */
class TcpCollectiveTest {

    @Test
    void rankZerosBytesReachEveryRank() throws Exception {
        int port = DataParallelTest.freePort();
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (i * 7 + 3);
        }
        // own threads: the common pool may have a single worker on a small machine, and the ranks must overlap
        ExecutorService peers = Executors.newFixedThreadPool(2);
        try {
            Future<byte[]> one = peers.submit(() -> receive(1, port));
            Future<byte[]> two = peers.submit(() -> receive(2, port));
            try (TcpCollective zero = TcpCollective.connect(0, 3, "127.0.0.1", port, Duration.ofSeconds(20))) {
                assertThat(zero.broadcastFromRankZero(id)).isEqualTo(id);
                // the group stays usable for the fp64 sums afterwards
                assertThat(zero.allReduceSum(new double[] {0})).containsExactly(3.0);
            }
            assertThat(one.get(20, TimeUnit.SECONDS)).isEqualTo(id);
            assertThat(two.get(20, TimeUnit.SECONDS)).isEqualTo(id);
        } finally {
            peers.shutdownNow();
        }
    }

    private static byte[] receive(int rank, int port) {
        try (TcpCollective c = TcpCollective.connect(rank, 3, "127.0.0.1", port, Duration.ofSeconds(20))) {
            byte[] got = c.broadcastFromRankZero(null);
            c.allReduceSum(new double[] {rank});
            return got;
        }
    }

    @Test
    void aPeerThatNeverArrivesAtTheCollectiveTimesOut() throws Exception {
        int port = DataParallelTest.freePort();
        CountDownLatch done = new CountDownLatch(1);
        Thread silent = Thread.ofPlatform().start(() -> {
            try (TcpCollective c = TcpCollective.connect(1, 2, "127.0.0.1", port, Duration.ofSeconds(20))) {
                done.await(30, TimeUnit.SECONDS); // connected, but never joins the all-reduce
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (TcpCollective zero = TcpCollective.connect(0, 2, "127.0.0.1", port, Duration.ofSeconds(20),
                Duration.ofMillis(500))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> zero.allReduceSum(new double[] {1}))
                    .isInstanceOf(CommunicationException.class)
                    .hasMessageContaining("all-reduce failed on rank 0: rank 1 sent nothing within the collective timeout");
            assertThat((System.nanoTime() - start) / 1e9).isBetween(0.4, 10.0);
        } finally {
            done.countDown();
            silent.join(30_000);
        }
    }

    @Test
    void aPeerThatExitsIsNamedWithWhatHappened() throws Exception {
        int port = DataParallelTest.freePort();
        // rank 1 joins the group and leaves at once, as a killed worker would
        Thread leaving = Thread.ofPlatform().start(() -> TcpCollective.connect(1, 2, "127.0.0.1", port,
                Duration.ofSeconds(20)).close());
        try (TcpCollective zero = TcpCollective.connect(0, 2, "127.0.0.1", port, Duration.ofSeconds(20))) {
            leaving.join(20_000);
            assertThatThrownBy(() -> zero.allReduceSum(new double[] {1}))
                    .isInstanceOf(CommunicationException.class)
                    .hasMessage("all-reduce failed on rank 0: rank 1 closed the connection (the peer process exited "
                            + "or its pod was deleted)");
        }
    }
}
