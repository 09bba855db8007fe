package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.trainer.run.TerminationLog;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs a worker's ranks as child processes and stands in for them towards the kubelet (what
 * {@code torchrun} does for PyTorch): prefixes their output with {@code [rank R]}, forwards SIGTERM to
 * all of them, stops the others when one fails (SIGTERM, then SIGKILL after a timeout: a rank blocked in
 * a collective with a dead peer would otherwise wait forever), exits with the code of the failure's cause
 * and publishes one termination message for the pod.
 */
public final class Launcher {

    /**
     * @param siblingStopTimeout how long ranks get to exit after a sibling failed, before SIGKILL
     * @param shutdownGrace how long ranks get to checkpoint after a SIGTERM to the launcher, before SIGKILL
     * @param terminationLog the pod's termination message file (written only if it exists)
     * @param attempt the gang's attempt, for a report the launcher has to make itself
     */
    public record Settings(Duration siblingStopTimeout, Duration shutdownGrace, Path terminationLog, int attempt) {
    }

    private static final String PREFIX = "[launcher] ";

    private final LaunchPlan plan;
    private final Function<LaunchPlan.Rank, List<String>> command;
    private final PrintStream out;
    private final PrintStream err;
    private final Settings settings;

    private final LinkedBlockingQueue<ChildExit> exitQueue = new LinkedBlockingQueue<>();
    private final Map<Integer, Process> running = new LinkedHashMap<>(); // by global rank; guarded by this
    private final List<Integer> killed = new ArrayList<>(); // guarded by this
    private final CountDownLatch finished = new CountDownLatch(1);
    private long killAtNanos = Long.MAX_VALUE; // guarded by this
    private boolean stopping; // guarded by this
    private volatile int exitCode = -1;

    /**
     * @param command the command line of a rank (the environment comes from the plan)
     */
    public Launcher(LaunchPlan plan, Function<LaunchPlan.Rank, List<String>> command, PrintStream out, PrintStream err,
            Settings settings) {
        this.plan = plan;
        this.command = command;
        this.out = out;
        this.err = err;
        this.settings = settings;
    }

    /** Starts the ranks, waits for all of them, publishes the pod's termination message; returns the exit code. */
    public int run() {
        Path reports;
        try {
            reports = Files.createTempDirectory("finetune-ranks-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the ranks' termination messages", e);
        }
        List<Thread> pumps = new ArrayList<>();
        try {
            out.println(PREFIX + "starting " + plan.processesPerWorker() + " ranks of " + plan.worldSize() + " on worker "
                    + plan.nodeRank() + " (OMP_NUM_THREADS=" + plan.threadsPerRank() + " each, of " + plan.threadBudget() + ")");
            int started = 0;
            for (LaunchPlan.Rank rank : plan.ranks()) {
                started += start(rank, reportFile(reports, rank), pumps) ? 1 : 0;
            }
            int exited = 0;
            List<ChildExit> exits = new ArrayList<>();
            while (exited < started) {
                ChildExit exit = exitQueue.poll(pollMillis(), TimeUnit.MILLISECONDS);
                if (exit != null) {
                    exited++;
                    exits.add(exit);
                    onExit(exit);
                } else {
                    killIfOverdue();
                }
            }
            for (Thread pump : pumps) {
                pump.join(5_000); // a rank's last lines before the launcher's summary
            }
            int code = finish(exits, reports);
            exitCode = code;
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killAll();
            exitCode = FailureReason.INTERRUPTED.exitCode();
            return exitCode;
        } finally {
            killAll(); // none left unless something above threw: never leave ranks behind
            finished.countDown();
            deleteQuietly(reports);
        }
    }

    /**
     * Forwards a stop to every rank (SIGTERM): rank 0 checkpoints at the next step boundary, every rank
     * exits; ranks still running after {@link Settings#shutdownGrace()} are killed.
     */
    public void stop(String why) {
        beginStop(why, settings.shutdownGrace());
    }

    /**
     * A JVM shutdown hook (SIGTERM, SIGINT) that forwards the stop, waits for the ranks and their
     * summary, and ends the JVM with the worker's code when that is not SIGTERM's own 143 (a rank
     * that failed for a real reason while stopping).
     */
    public Thread shutdownHook() {
        return new Thread(() -> {
            if (finished.getCount() == 0) {
                return;
            }
            stop("received SIGTERM: forwarding it to every rank (rank 0 writes a checkpoint)");
            try {
                finished.await(settings.shutdownGrace().toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            int code = exitCode;
            if (code >= 0 && code != FailureReason.INTERRUPTED.exitCode()) {
                out.flush();
                err.flush();
                Runtime.getRuntime().halt(code);
            }
        }, "finetune-launcher-sigterm");
    }

    /** Starts one rank; false when it was not started because a stop came first (no exit will follow). */
    private boolean start(LaunchPlan.Rank rank, Path reportFile, List<Thread> pumps) {
        ProcessBuilder builder = new ProcessBuilder(command.apply(rank));
        builder.environment().putAll(rank.env());
        builder.environment().put(TerminationLog.PATH_ENV, reportFile.toString());
        Process process;
        synchronized (this) {
            if (stopping) {
                return false; // a SIGTERM or a failed rank came while starting: do not start more ranks
            }
            try {
                process = builder.start();
            } catch (IOException e) {
                err.println(PREFIX + "cannot start rank " + rank.globalRank() + ": " + e.getMessage());
                exitQueue.add(new ChildExit(rank.localRank(), rank.globalRank(), FailureReason.INTERNAL.exitCode(),
                        System.nanoTime(), false));
                return true;
            }
            running.put(rank.globalRank(), process);
        }
        String prefix = "[rank " + rank.globalRank() + "] ";
        Thread stdout = new PrefixedLines(process.getInputStream(), out, prefix, "rank-" + rank.globalRank() + "-out");
        Thread stderr = new PrefixedLines(process.getErrorStream(), err, prefix, "rank-" + rank.globalRank() + "-err");
        stdout.start();
        stderr.start();
        pumps.add(stdout);
        pumps.add(stderr);
        out.println(PREFIX + "rank " + rank.globalRank() + " (local rank " + rank.localRank() + ") started, pid " + process.pid());
        // one plain thread per rank blocked in waitFor: the exit must reach the loop, whatever the JDK's
        // async machinery (Process.onExit runs on shared pools) is doing
        Thread waiter = new Thread(() -> {
            int code;
            while (true) {
                try {
                    code = process.waitFor();
                    break;
                } catch (InterruptedException ignored) {
                    // only the exit ends this thread
                }
            }
            exitQueue.add(new ChildExit(rank.localRank(), rank.globalRank(), code, System.nanoTime(), wasKilled(rank.globalRank())));
        }, "rank-" + rank.globalRank() + "-exit");
        waiter.setDaemon(true);
        waiter.start();
        return true;
    }

    private void onExit(ChildExit exit) {
        synchronized (this) {
            running.remove(exit.globalRank());
        }
        if (!exit.failed()) {
            out.println(PREFIX + "rank " + exit.globalRank() + " finished");
            return;
        }
        boolean first;
        synchronized (this) {
            first = !stopping;
        }
        err.println(PREFIX + "rank " + exit.globalRank() + " ended with " + exit.describe()
                + (first && !remaining().isEmpty() ? "; stopping ranks " + remaining() : ""));
        if (first) {
            beginStop(null, settings.siblingStopTimeout());
        }
    }

    private synchronized void beginStop(String why, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        killAtNanos = Math.min(killAtNanos, deadline);
        if (stopping) {
            return;
        }
        stopping = true;
        if (why != null) {
            out.println(PREFIX + why);
        }
        // SIGTERM through the handle: Process.destroy() would also close our end of the rank's output
        // and lose what it prints while it checkpoints
        running.values().forEach(p -> p.toHandle().destroy());
    }

    private synchronized void killIfOverdue() {
        if (System.nanoTime() < killAtNanos || running.isEmpty()) {
            return;
        }
        err.println(PREFIX + "ranks " + running.keySet() + " did not stop in time; killing them (SIGKILL)");
        killAll();
        killAtNanos = Long.MAX_VALUE;
    }

    private synchronized void killAll() {
        running.forEach((rank, process) -> {
            killed.add(rank);
            process.toHandle().destroyForcibly();
        });
    }

    private synchronized boolean wasKilled(int rank) {
        return killed.contains(rank);
    }

    private synchronized List<Integer> remaining() {
        return List.copyOf(running.keySet());
    }

    private synchronized long pollMillis() {
        if (killAtNanos == Long.MAX_VALUE) {
            return 1_000;
        }
        return Math.max(1, Math.min(1_000, (killAtNanos - System.nanoTime()) / 1_000_000));
    }

    private int finish(List<ChildExit> exits, Path reports) {
        Optional<ChildExit> cause = FailureCause.of(exits);
        Map<Integer, ProgressReport> written = new LinkedHashMap<>();
        for (LaunchPlan.Rank rank : plan.ranks()) {
            TerminationLog.read(reportFile(reports, rank)).ifPresent(r -> written.put(rank.globalRank(), r));
        }
        PodTerminationReport.choose(written, cause, settings.attempt())
                .ifPresent(report -> TerminationLog.write(settings.terminationLog(), report));
        if (cause.isEmpty()) {
            out.println(PREFIX + "all " + exits.size() + " ranks finished");
            return 0;
        }
        ChildExit c = cause.get();
        if (c.exitCode() == FailureReason.INTERRUPTED.exitCode()) {
            out.println(PREFIX + "worker " + plan.nodeRank() + " stopped: " + exits.stream()
                    .sorted(Comparator.comparingInt(ChildExit::globalRank))
                    .map(e -> "rank " + e.globalRank() + " " + e.describe()).collect(Collectors.joining(", ")));
            return c.exitCode();
        }
        List<String> others = exits.stream().filter(e -> e != c && e.failed())
                .sorted(Comparator.comparingInt(ChildExit::globalRank))
                .map(e -> "rank " + e.globalRank() + " " + e.describe() + (e.killedByLauncher() ? " (killed here)" : ""))
                .toList();
        err.println(PREFIX + "worker " + plan.nodeRank() + " failed: rank " + c.globalRank() + " ended with " + c.describe()
                + (others.isEmpty() ? "" : "; then " + String.join(", ", others)));
        return c.exitCode();
    }

    private static Path reportFile(Path dir, LaunchPlan.Rank rank) {
        Path file = dir.resolve("rank-" + rank.globalRank() + ".json");
        if (!Files.exists(file)) {
            try {
                // the rank writes its termination message only into a file that exists, like the kubelet's
                Files.createFile(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }
}
