package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.trainer.run.TerminationLog;
import java.util.List;

/**
 * A stand-in rank for the launcher's tests: a small JVM that behaves like the trainer at its edges (its
 * output, its termination message, its exit code, its SIGTERM hook) without loading a model.
 *
 * <pre>
 * ok                        print its environment, report SUCCEEDED, exit 0
 * fail CODE REASON MILLIS   after MILLIS, report REASON and exit CODE
 * wait                      wait up to a minute; on SIGTERM report INTERRUPTED and exit (143)
 * orphan FILE               like a rank of the trainer, stop when the parent exits; write FILE on the way out
 * </pre>
 */
public final class FakeRank {

    /** Rank 0's reports carry this sequence number, so a test can tell whose report a pod published. */
    static final long RANK_ZERO_SEQUENCE = 900;

    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(System.getenv("RANK"));
        long sequence = rank == 0 ? RANK_ZERO_SEQUENCE : rank;
        System.out.println("hello from rank " + rank + " (local " + System.getenv("LOCAL_RANK") + ", world "
                + System.getenv("WORLD_SIZE") + ", omp " + System.getenv("OMP_NUM_THREADS") + ")");
        System.err.println("a line on stderr");
        switch (args[0]) {
            case "ok" -> {
                report(sequence, TrainerState.SUCCEEDED, null);
                System.exit(0);
            }
            case "fail" -> {
                Thread.sleep(Long.parseLong(args[3]));
                FailureReason reason = FailureReason.valueOf(args[2]);
                report(sequence, TrainerState.FAILED, Failure.of(reason, "failed on purpose"));
                System.exit(Integer.parseInt(args[1]));
            }
            case "wait" -> {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    System.out.println("checkpoint on SIGTERM");
                    report(sequence, TrainerState.FAILED, Failure.of(FailureReason.INTERRUPTED, "stopped on request"));
                }));
                System.out.println("waiting");
                Thread.sleep(60_000);
                System.exit(0);
            }
            case "orphan" -> {
                java.nio.file.Path file = java.nio.file.Path.of(args[1]);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        java.nio.file.Files.writeString(file, "stopped");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
                LauncherWatch.stopWhenLauncherExits();
                System.out.println("watching");
                Thread.sleep(60_000);
                System.exit(0);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void report(long sequence, TrainerState state, Failure failure) {
        TerminationLog.write(TerminationLog.path(), new ProgressReport(1, sequence, 1, state, null, List.of(), null, null, failure));
    }
}
