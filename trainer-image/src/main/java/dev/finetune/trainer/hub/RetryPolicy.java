package dev.finetune.trainer.hub;

import java.time.Duration;

/**
 * How often a request is retried after a 429, a 5xx, a refused connection or a transfer cut off without
 * progress, and how long to wait: the server's Retry-After when it sends one (capped), else exponential
 * backoff from {@code firstBackoff}.
 */
public record RetryPolicy(int attempts, Duration firstBackoff, Duration maxWait, Sleeper sleeper) {

    /** Waits; tests substitute one that records instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    public static final Sleeper REAL_SLEEP = d -> Thread.sleep(d.toMillis());

    public static RetryPolicy standard() {
        return new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(60), REAL_SLEEP);
    }

    public RetryPolicy {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        }
    }

    /** The wait before attempt {@code attempt + 1} (attempt counts from 1), honouring Retry-After seconds. */
    public Duration delay(int attempt, Long retryAfterSeconds) {
        Duration wait = retryAfterSeconds != null ? Duration.ofSeconds(retryAfterSeconds)
                : firstBackoff.multipliedBy(1L << Math.min(attempt - 1, 20));
        return wait.compareTo(maxWait) > 0 ? maxWait : wait;
    }

    void pause(int attempt, Long retryAfterSeconds) {
        try {
            sleeper.sleep(delay(attempt, retryAfterSeconds));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubException.Kind.UNAVAILABLE, "interrupted while waiting to retry", e);
        }
    }
}
