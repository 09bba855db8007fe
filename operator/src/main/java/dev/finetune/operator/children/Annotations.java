package dev.finetune.operator.children;

/** Annotations the operator writes on worker Jobs, so their history can be read back after a restart. */
public final class Annotations {

    /** Gang restarts counted when this attempt started. */
    public static final String RESTARTS = "finetune.dev/restarts";
    /** Checkpoint this attempt resumed from (relative to the output volume root), if any. */
    public static final String RESUME_FROM = "finetune.dev/resume-from";
    /**
     * When the activeDeadlineSeconds clock started (RFC 3339): the first start, or the latest resume after a
     * suspension; gang restarts carry it over.
     */
    public static final String DEADLINE_BASE = "finetune.dev/deadline-base";
    /** Why the attempt was started: Started, Restarted (after a failure), Resumed or RestartRequested. */
    public static final String START_REASON = "finetune.dev/start-reason";

    private Annotations() {
    }
}
