package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.FailureReason;

/**
 * Ties a rank's life to its launcher's. In a pod the kernel ends every process when the container's
 * first one dies, but on a workstation a launcher killed with SIGKILL (or a closed terminal) would
 * leave its ranks training on, holding the cores, the GPUs and the rendezvous port.
 */
public final class LauncherWatch {

    private LauncherWatch() {
    }

    /**
     * When the parent process (the launcher) exits, this rank stops as on SIGTERM: its shutdown hooks
     * run (rank 0 checkpoints if the others are still there to agree on the step) and it exits 143.
     */
    public static void stopWhenLauncherExits() {
        ProcessHandle.current().parent().ifPresent(launcher -> launcher.onExit().thenRun(() -> {
            System.err.println("finetune: the launcher (pid " + launcher.pid() + ") exited; stopping this rank");
            System.exit(FailureReason.INTERRUPTED.exitCode());
        }));
    }
}
