package dev.finetune.api.trainer;

/**
 * Something the trainer worked around that a user should know of (a corrupt checkpoint skipped on resume):
 * the operator records each as a Warning Event on the FineTuneJob.
 *
 * @param reason CamelCase Event reason, e.g. {@code CheckpointCorrupt}
 * @param message what happened and what the trainer did instead, naming the files
 */
public record TrainerWarning(String reason, String message) {

    /** A corrupt checkpoint was skipped and the run resumed from an older one (or from the start). */
    public static final String CHECKPOINT_CORRUPT = "CheckpointCorrupt";
}
