package dev.finetune.trainer.hub;

/**
 * A download that cannot complete, classified so callers (the CLI, the operator's status) can tell the user
 * what to do. Messages name the repository, revision or file, never the token.
 */
public final class HubException extends RuntimeException {

    /** Why the download failed. */
    public enum Kind {
        /** 401/403: no token, a wrong token, or a gated repository the token's account has not accepted. */
        UNAUTHORIZED,
        /** 404: repository, revision or file does not exist (or is private and no token was sent). */
        NOT_FOUND,
        /** 429 on every attempt. */
        RATE_LIMITED,
        /** 5xx on every attempt, or the server could not be reached. */
        UNAVAILABLE,
        /** A file's bytes do not match the hash the hub published. */
        CORRUPT,
        /** Offline mode and the cache lacks what was asked for. */
        NOT_CACHED,
        /** The server answered something this client does not understand. */
        PROTOCOL
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether retrying later can help (the operator retries these; the others need a spec or secret change). */
    public boolean transientFailure() {
        return kind == Kind.RATE_LIMITED || kind == Kind.UNAVAILABLE;
    }
}
