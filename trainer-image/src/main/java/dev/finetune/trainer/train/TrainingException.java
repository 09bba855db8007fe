package dev.finetune.trainer.train;

import dev.finetune.api.trainer.FailureReason;

/** A failure of the run whose cause is known where it is thrown (bad data, NaN loss, a stop request, ...). */
public class TrainingException extends RuntimeException {

    private final FailureReason reason;

    public TrainingException(FailureReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public TrainingException(FailureReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public FailureReason reason() {
        return reason;
    }
}
