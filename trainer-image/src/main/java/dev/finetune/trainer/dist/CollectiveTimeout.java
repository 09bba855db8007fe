package dev.finetune.trainer.dist;

import java.time.Duration;
import java.util.Map;

/**
 * How long one collective may wait for the other ranks before the gang is declared broken
 * ({@link CommunicationException}, retryable: the operator restarts the gang from the last checkpoint).
 * The operator sets {@value #VARIABLE} from {@code finetune.worker.collective-timeout-seconds}; it must cover
 * the longest time one rank can spend alone between two collectives (rank 0 writing a checkpoint or an
 * evaluation sample), so the default is generous.
 */
public final class CollectiveTimeout {

    public static final String VARIABLE = "FINETUNE_COLLECTIVE_TIMEOUT_SECONDS";
    public static final Duration DEFAULT = Duration.ofMinutes(30);

    private CollectiveTimeout() {}

    /**
     * The timeout named by {@value #VARIABLE} in {@code env}, or {@link #DEFAULT}.
     *
     * @throws IllegalArgumentException when the variable is not a positive whole number of seconds
     */
    public static Duration fromEnvironment(Map<String, String> env) {
        String value = env.get(VARIABLE);
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        long seconds;
        try {
            seconds = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(VARIABLE + "=" + value + " is not a number of seconds (e.g. 1800)");
        }
        if (seconds <= 0) {
            throw new IllegalArgumentException(VARIABLE + "=" + value + " must be a positive number of seconds (e.g. 1800)");
        }
        return Duration.ofSeconds(seconds);
    }
}
