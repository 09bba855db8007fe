package dev.finetune.operator.status;

/** The condition types a FineTuneJob carries; docs/operator.md explains each. */
public final class ConditionType {

    /** kstatus: the job is in the state its spec asks for (training healthily, suspended as asked, or done). */
    public static final String READY = "Ready";
    /** kstatus: the operator is still working towards the spec (validating, starting, restarting). */
    public static final String RECONCILING = "Reconciling";
    /** kstatus: no progress is possible without someone changing something. */
    public static final String STALLED = "Stalled";
    public static final String VALIDATED = "Validated";
    public static final String WORKERS_READY = "WorkersReady";
    public static final String TRAINING = "Training";
    public static final String CHECKPOINTED = "Checkpointed";
    public static final String SUSPENDED = "Suspended";
    public static final String SUCCEEDED = "Succeeded";
    public static final String FAILED = "Failed";

    /** The order conditions are listed in. */
    public static final java.util.List<String> ALL = java.util.List.of(READY, RECONCILING, STALLED, VALIDATED,
            WORKERS_READY, TRAINING, CHECKPOINTED, SUSPENDED, SUCCEEDED, FAILED);

    private ConditionType() {
    }
}
