package dev.finetune.api.trainer;

/**
 * Why a trainer process stopped early. The trainer exits with {@link #exitCode()} and names the reason
 * in its report, so the operator can tell a permanent failure (fail the job now, with the hint) from a
 * retryable one (restart the gang from the last checkpoint) even when the report channel is down.
 */
public enum FailureReason {
    BAD_CONFIG(78, true, "Fix the FineTuneJob spec; `finetune run --dry-run job.yaml` checks it locally."),
    BAD_DATA(65, true, "Fix what the message names (file, line, record, field or key); a bad "
            + "record can instead be skipped with dataset.skipInvalidRecords: true."),
    BAD_MODEL(66, true, "spec.model must point at a Hugging Face model directory: config.json, model.safetensors "
            + "(or model.safetensors.index.json with its shards), tokenizer.json, tokenizer_config.json."),
    NAN_LOSS(67, true, "Loss became NaN or infinite: lower training.learningRate, keep training.maxGradNorm > 0, "
            + "or use precision bf16 instead of fp16."),
    OUT_OF_MEMORY(68, true, "Lower training.batchSize (raise gradientAccumulationSteps to keep the effective batch), "
            + "lower dataset.maxSeqLength, set training.gradientCheckpointing: true, or request more memory / GPUs."),
    /** The output directory cannot be written (permissions, a read-only mount, a full disk): sysexits' EX_CANTCREAT. */
    OUTPUT_UNWRITABLE(73, true, "Make the output directory writable (spec.output.pvc: its permissions, a read-only "
            + "mount or volume, free space); a run started again resumes from its last checkpoint."),
    /**
     * The output volume ran out of space (ENOSPC, or the user's quota) while the run wrote to it: sysexits'
     * EX_IOERR. What was written before stays intact, since every checkpoint and adapter is written aside and
     * renamed into place.
     */
    OUTPUT_VOLUME_FULL(74, true, "The output volume is full: free space on it or move the job to a larger "
            + "PersistentVolumeClaim (spec.output.pvc); the checkpoints and adapters written before are intact, and "
            + "the job resumes from its last checkpoint when started again.",
            "The output directory's file system is full: free space on it or choose another output directory; the "
            + "checkpoints and adapters written before are intact, and running the same command again resumes from "
            + "the last checkpoint."),
    /** SIGTERM (eviction, preemption, suspend): a checkpoint was taken on the way down. */
    INTERRUPTED(143, false, "The worker was stopped from outside; the job resumes from the checkpoint taken on shutdown.",
            "The run was stopped from outside (SIGTERM) after writing a checkpoint; run the same command again to "
            + "resume from it."),
    /** Rendezvous or collective timeouts: a peer died or the network failed. */
    COMMUNICATION(75, false, "A peer stopped answering (node loss, network); the gang restarts from the last checkpoint.",
            "A training process stopped answering; run the same command again to resume from the last checkpoint."),
    /** A bug in the trainer, never a user mistake: every bad input has a reason of its own. */
    INTERNAL(70, false, "This is a bug in the trainer, not a problem with your input: please open an issue on the "
            + "finetune-operator project with this output (the command and the log). A cluster job restarts from the "
            + "last checkpoint.",
            "This is a bug in the trainer, not a problem with your input: please open an issue on the "
            + "finetune-operator project with this output (the command and the log).");

    private final int exitCode;
    private final boolean permanent;
    private final String hint;
    private final String localHint;

    FailureReason(int exitCode, boolean permanent, String hint) {
        this(exitCode, permanent, hint, hint);
    }

    FailureReason(int exitCode, boolean permanent, String hint, String localHint) {
        this.exitCode = exitCode;
        this.permanent = permanent;
        this.hint = hint;
        this.localHint = localHint;
    }

    /** The process exit code the trainer uses for this reason. */
    public int exitCode() {
        return exitCode;
    }

    /** True when retrying cannot help: the job fails at once instead of restarting. */
    public boolean permanent() {
        return permanent;
    }

    /** What a user can do about it, for a job the operator runs (gang restarts included). */
    public String hint() {
        return hint;
    }

    /**
     * What a user can do about it after a local {@code finetune run}: the same advice without what the
     * operator does next (no gang restarts a local run).
     */
    public String localHint() {
        return localHint;
    }

    /** The condition reason the operator shows, e.g. {@code BadData}. */
    public String conditionReason() {
        StringBuilder camel = new StringBuilder();
        for (String word : name().split("_")) {
            camel.append(word.charAt(0)).append(word.substring(1).toLowerCase(java.util.Locale.ROOT));
        }
        return camel.toString();
    }

    /** The reason behind a trainer exit code, or empty for codes the trainer does not use. */
    public static java.util.Optional<FailureReason> fromExitCode(int exitCode) {
        for (FailureReason reason : values()) {
            if (reason.exitCode == exitCode) {
                return java.util.Optional.of(reason);
            }
        }
        return java.util.Optional.empty();
    }
}
