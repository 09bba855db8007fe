package dev.finetune.trainer.dist;

import java.time.Duration;
import java.util.Map;

/**
 * How long a rank waits for the others before the gang is declared broken ({@link CommunicationException},
 * retryable: the operator restarts the gang from the last checkpoint). The operator sets both variables from its
 * {@code finetune.worker.*-timeout-seconds} settings; a local run gets the defaults.
 *
 * <ul>
 *   <li>{@value #RENDEZVOUS_VARIABLE}: forming the group. Pods of a gang start minutes apart when images are
 *       pulled or nodes scale up.
 *   <li>{@value #COLLECTIVE_VARIABLE}: one collective after that. It must cover the longest time one rank can
 *       spend alone between two collectives (rank 0 writing a checkpoint or an evaluation sample), so the
 *       default is generous.
 * </ul>
 */
public final class GangTimeouts {

    public static final String RENDEZVOUS_VARIABLE = "FINETUNE_RENDEZVOUS_TIMEOUT_SECONDS";
    public static final String COLLECTIVE_VARIABLE = "FINETUNE_COLLECTIVE_TIMEOUT_SECONDS";
    public static final Duration DEFAULT_RENDEZVOUS = Duration.ofMinutes(15);
    public static final Duration DEFAULT_COLLECTIVE = Duration.ofMinutes(30);

    private GangTimeouts() {}

    /** The rendezvous limit named by {@value #RENDEZVOUS_VARIABLE} in {@code env}, or {@link #DEFAULT_RENDEZVOUS}. */
    public static Duration rendezvous(Map<String, String> env) {
        return seconds(env, RENDEZVOUS_VARIABLE, DEFAULT_RENDEZVOUS);
    }

    /** The per-collective limit named by {@value #COLLECTIVE_VARIABLE} in {@code env}, or {@link #DEFAULT_COLLECTIVE}. */
    public static Duration collective(Map<String, String> env) {
        return seconds(env, COLLECTIVE_VARIABLE, DEFAULT_COLLECTIVE);
    }

    /**
     * A whole positive number of seconds from {@code env}, or {@code fallback} when the variable is unset.
     *
     * @throws IllegalArgumentException naming the variable when it is not a positive whole number of seconds
     */
    public static Duration seconds(Map<String, String> env, String variable, Duration fallback) {
        String value = env.get(variable);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        long seconds;
        try {
            seconds = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(variable + "=" + value + " is not a number of seconds (e.g. "
                    + fallback.toSeconds() + ")");
        }
        if (seconds <= 0) {
            throw new IllegalArgumentException(variable + "=" + value + " must be a positive number of seconds (e.g. "
                    + fallback.toSeconds() + ")");
        }
        return Duration.ofSeconds(seconds);
    }
}
