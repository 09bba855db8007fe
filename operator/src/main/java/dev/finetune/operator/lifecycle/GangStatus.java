package dev.finetune.operator.lifecycle;

/**
 * What the workers of the current attempt are doing, read from their batch Job and pods.
 *
 * @param problem why the gang is not (yet) ready, e.g. Unschedulable or ImagePullBackOff; null when none
 * @param problemMessage the scheduler's or kubelet's words
 * @param stalled true when the problem will not go away by itself (a bad image name, a missing Secret)
 * @param failure set when {@link #kind} is FAILED
 */
public record GangStatus(Kind kind, int readyWorkers, int workers, String problem, String problemMessage, boolean stalled,
        WorkerFailure failure) {

    public enum Kind {
        /** The Job is suspended: Kueue has not admitted it yet. */
        QUEUED,
        /** Pods are being scheduled, pulled or started. */
        STARTING,
        /** Every worker pod is running and ready. */
        RUNNING,
        SUCCEEDED,
        FAILED
    }
}
