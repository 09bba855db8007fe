package dev.finetune.api.trainer;

/** What the trainer is doing when it reports. */
public enum TrainerState {
    /** Loading the model and data, or waiting for peers. */
    INITIALIZING,
    TRAINING,
    EVALUATING,
    /** Writing a checkpoint or adapter. */
    CHECKPOINTING,
    /** Done: final adapter, manifest and report written. */
    SUCCEEDED,
    /** Stopped with a {@link Failure}. */
    FAILED;

    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED;
    }
}
