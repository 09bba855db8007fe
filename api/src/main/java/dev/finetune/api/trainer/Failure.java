package dev.finetune.api.trainer;

/** A classified trainer failure: why, what happened, and what to do. */
public record Failure(FailureReason reason, String message, String hint) {

    public static Failure of(FailureReason reason, String message) {
        return new Failure(reason, message, reason.hint());
    }
}
