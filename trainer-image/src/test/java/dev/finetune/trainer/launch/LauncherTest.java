package dev.finetune.trainer.launch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig.Distributed;
import dev.finetune.trainer.run.TerminationLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The launcher with stand-in ranks ({@link FakeRank} JVMs, a shell that ignores SIGTERM): seconds, no model. */
@Timeout(60)
class LauncherTest {

    @TempDir
    Path tmp;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    Launcher launcher(Map<Integer, List<String>> commands, Duration siblingStop) throws Exception {
        Path log = Files.createFile(tmp.resolve("termination-log"));
        LaunchPlan plan = LaunchPlan.derive(new Distributed(1, commands.size(), CollectiveBackend.TCP, "127.0.0.1", 29500),
                Map.of("OMP_NUM_THREADS", "4"), 8);
        return new Launcher(plan, rank -> commands.get(rank.globalRank()), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new Launcher.Settings(siblingStop, Duration.ofSeconds(20), log, 2));
    }

    static List<String> fake(String... args) {
        return ChildCommand.sameJvm(FakeRank.class, List.of(args));
    }

    ProgressReport published() {
        return TerminationLog.read(tmp.resolve("termination-log")).orElseThrow(() -> new AssertionError("no termination message"));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void ranksGetTheirEnvironmentAndTheirLinesArePrefixed() throws Exception {
        int code = launcher(Map.of(0, fake("ok"), 1, fake("ok")), Duration.ofSeconds(20)).run();
        assertThat(code).as(out() + err()).isZero();
        assertThat(out()).contains("[rank 0] hello from rank 0 (local 0, world 2, omp 2)")
                .contains("[rank 1] hello from rank 1 (local 1, world 2, omp 2)")
                .contains("[launcher] all 2 ranks finished");
        assertThat(err()).contains("[rank 0] a line on stderr").contains("[rank 1] a line on stderr");
        assertThat(published().sequence()).isEqualTo(FakeRank.RANK_ZERO_SEQUENCE);
    }

    @Test
    void aFailingRankStopsItsSiblingPromptlyAndItsReasonIsTheWorkersReason() throws Exception {
        long start = System.nanoTime();
        int code = launcher(Map.of(0, fake("wait"), 1, fake("fail", "65", "BAD_DATA", "500")), Duration.ofSeconds(30)).run();
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(code).as(out() + err()).isEqualTo(FailureReason.BAD_DATA.exitCode());
        assertThat(seconds).as("the sibling exits on SIGTERM, long before the 30 s kill timeout").isLessThan(20);
        assertThat(err()).contains("[launcher] rank 1 ended with exit code 65 (BadData); stopping ranks [0]")
                .contains("worker 0 failed: rank 1 ended with exit code 65 (BadData); then rank 0 exit code 143 (Interrupted)");
        assertThat(out()).contains("[rank 0] checkpoint on SIGTERM");
        ProgressReport report = published();
        assertThat(report.sequence()).as("rank 0's report").isEqualTo(FakeRank.RANK_ZERO_SEQUENCE);
        assertThat(report.failure().reason()).isEqualTo(FailureReason.BAD_DATA);
        assertThat(report.failure().message()).isEqualTo("rank 1: failed on purpose");
    }

    @Test
    void aRankThatIgnoresSigtermIsKilledAfterTheTimeout() throws Exception {
        long start = System.nanoTime();
        List<String> stubborn = List.of("sh", "-c", "trap '' TERM; echo stubborn; exec sleep 60");
        int code = launcher(Map.of(0, stubborn, 1, fake("fail", "70", "INTERNAL", "300")), Duration.ofSeconds(1)).run();
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(code).as(out() + err()).isEqualTo(FailureReason.INTERNAL.exitCode());
        assertThat(seconds).isLessThan(15);
        assertThat(out()).contains("[rank 0] stubborn");
        assertThat(err()).contains("ranks [0] did not stop in time; killing them (SIGKILL)")
                .contains("then rank 0 exit code 137 (killed by SIGKILL) (killed here)");
        // rank 0 wrote nothing: the pod publishes rank 1's report
        assertThat(published().failure().reason()).isEqualTo(FailureReason.INTERNAL);
        assertThat(published().sequence()).isEqualTo(1);
    }

    @Test
    void stopForwardsSigtermToEveryRankAndRankZerosReportIsPublished() throws Exception {
        Launcher launcher = launcher(Map.of(0, fake("wait"), 1, fake("wait")), Duration.ofSeconds(30));
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(launcher::run);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(out().contains("[rank 0] waiting") && out().contains("[rank 1] waiting")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        launcher.stop("stop requested by the test");
        int code = run.get(30, TimeUnit.SECONDS);
        assertThat(code).as(out() + err()).isEqualTo(FailureReason.INTERRUPTED.exitCode());
        assertThat(out()).contains("[launcher] stop requested by the test")
                .contains("[launcher] worker 0 stopped: rank 0 exit code 143 (Interrupted), rank 1 exit code 143 (Interrupted)")
                .contains("[rank 0] checkpoint on SIGTERM").contains("[rank 1] checkpoint on SIGTERM");
        assertThat(published().sequence()).isEqualTo(FakeRank.RANK_ZERO_SEQUENCE);
        assertThat(published().failure().reason()).isEqualTo(FailureReason.INTERRUPTED);
    }

    @Test
    void aRankStopsWhenItsLauncherIsKilled() throws Exception {
        Path stopped = tmp.resolve("stopped");
        String rank = String.join(" ", fake("orphan", stopped.toString()).stream().map(a -> "'" + a + "'").toList());
        // sh stands in for a launcher that dies by SIGKILL and cannot stop its ranks itself
        Path output = tmp.resolve("rank.out");
        Process launcher = new ProcessBuilder("sh", "-c", "RANK=0 " + rank + " > '" + output + "' & echo $!; wait").start();
        long pid = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(launcher.getInputStream())).readLine().strip());
        ProcessHandle child = ProcessHandle.of(pid).orElseThrow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(output) && Files.readString(output).contains("watching")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        launcher.destroyForcibly();
        child.onExit().get(20, TimeUnit.SECONDS);
        assertThat(child.isAlive()).isFalse();
        assertThat(stopped).as("the rank ran its shutdown hooks").hasContent("stopped");
    }
}
