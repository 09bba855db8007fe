package dev.finetune.api.v1alpha1;

/** Where a job is in its life, for the PHASE column; conditions carry the detail. */
public enum Phase {
    /** Accepted, not yet validated or waiting for its inputs (e.g. an unbound PVC). */
    Pending,
    /**
     * Kueue holds the workers: the worker Job waits in its LocalQueue to be admitted, or was preempted and waits to
     * be admitted again (it then resumes from the checkpoint taken on the way down).
     */
    Queued,
    /** Workers created; loading the model and data, or waiting for the whole gang to be ready. */
    Initializing,
    /** The trainer reports training or evaluating. */
    Training,
    /** Finished; the final adapter is written. Terminal. */
    Succeeded,
    /** Stopped for good: a permanent error, backoffLimit or activeDeadlineSeconds exhausted. Terminal. */
    Failed,
    /** spec.suspend is true: no workers run; progress and checkpoints are kept. */
    Suspended;

    public boolean isTerminal() {
        return this == Succeeded || this == Failed;
    }
}
