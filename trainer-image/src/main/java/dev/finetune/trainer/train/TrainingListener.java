package dev.finetune.trainer.train;

/** Hooks for progress reporting and outputs; called on the training thread. */
public interface TrainingListener {

    default void onStart(Trainer trainer, long totalSteps, int totalEpochs) {}

    default void onStep(Trainer trainer, StepMetrics metrics) {}

    /** After each evaluation; {@code improved} when it set a new best eval loss. */
    default void onEvaluation(Trainer trainer, EvalRecord record, boolean improved) {}

    /** After the epoch's evaluation: write adapters and a resumable checkpoint here. */
    default void onEpochEnd(Trainer trainer, int epoch) {}

    /** A stop was requested (SIGTERM): take a just-in-time checkpoint. */
    default void onInterrupt(Trainer trainer) {}

    default void onFinish(Trainer trainer) {}
}
