package dev.finetune.trainer.dist;

/** A peer did not answer or the connection broke: retryable (the gang restarts from the last checkpoint). */
public class CommunicationException extends RuntimeException {
    public CommunicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
