package dev.finetune.trainer.train;

/**
 * A training failure with its classification. {@code reason} is the name of a
 * {@code dev.finetune.api.trainer.FailureReason} (BAD_DATA, NAN_LOSS, OUT_OF_MEMORY, INTERRUPTED, ...).
 */
public class TrainingException extends RuntimeException {

    private final String reason;

    public TrainingException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public TrainingException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
