package dev.finetune.operator.lifecycle;

/**
 * Why an attempt of the gang failed, classified.
 *
 * @param reason CamelCase condition reason (BadData, OutOfMemory, Communication, Evicted, ...)
 * @param message what happened, naming the worker
 * @param hint what the user can do; null when nothing
 * @param permanent true when a restart cannot help
 */
public record WorkerFailure(String reason, String message, String hint, boolean permanent) {

    /** Lower is more telling: a permanent cause beats a retryable one beats an interruption (SIGTERM from the gang's teardown). */
    int rank() {
        if (permanent) {
            return 0;
        }
        return "Interrupted".equals(reason) ? 2 : 1;
    }

    public String describe() {
        return hint == null ? message : message + " Hint: " + hint;
    }
}
