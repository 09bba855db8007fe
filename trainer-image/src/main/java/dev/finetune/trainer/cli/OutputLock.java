package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.FailureReason;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One local run at a time in an output directory. Two runs of the same job (the command started again in a second
 * terminal) would both resume from the newest checkpoint and then write checkpoints/, the adapters and progress.json
 * in turn, each one's retention deleting the other's checkpoints. A local {@code finetune run} therefore holds an OS
 * lock on {@link #FILE} while it runs; the OS drops it when the process ends, however it ends, so no stale lock is
 * ever left. The file itself stays, empty, and is never rewritten (a finished run run again changes no file).
 * Runs the operator starts ({@code --config}) take no lock: the operator keeps two jobs off one output path
 * (OutputPathInUse), and a lock on a network volume can outlive a dead pod.
 */
final class OutputLock implements AutoCloseable {

    static final String FILE = ".finetune-lock";

    private final FileChannel channel;

    private OutputLock(FileChannel channel) {
        this.channel = channel;
    }

    /** Holds the lock of {@code outputDir} until {@link #close()} or the end of the process. */
    static OutputLock acquire(Path outputDir) {
        Path file = outputDir.resolve(FILE);
        FileChannel channel;
        try {
            Files.createDirectories(outputDir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "cannot create " + file + ": " + e.getMessage(),
                    "choose a writable output directory (spec.output.pvc, and the --volume that maps its claim) or fix its permissions", e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(channel);
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "cannot lock " + file + ": " + e.getMessage(),
                    "run on a file system that supports locks, or choose another spec.output path", e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw CliException.of(FailureReason.OUTPUT_UNWRITABLE, "output directory " + outputDir + " is in use by another "
                    + "finetune run (it holds " + FILE + "); two runs would write the same checkpoints and adapters",
                    "wait for that run to end (or stop it: it writes a checkpoint and a later run resumes from it), "
                            + "or choose another spec.output path");
        }
        return new OutputLock(channel);
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing releases the lock; the OS releases it at exit anyway
        }
    }
}
