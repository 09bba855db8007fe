package dev.finetune.trainer.oci;

/** A registry operation that failed: the message names the registry, repository and what to fix; never credentials. */
public final class RegistryException extends RuntimeException {

    private final boolean transientFailure;

    public RegistryException(String message, boolean transientFailure) {
        super(message);
        this.transientFailure = transientFailure;
    }

    public RegistryException(String message, boolean transientFailure, Throwable cause) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    /** Whether trying again later can help (5xx, unreachable), as opposed to a refused credential or a missing tag. */
    public boolean transientFailure() {
        return transientFailure;
    }
}
