package dev.finetune.trainer.data.format;

import java.util.Locale;

/** The roles chat templates know. Tool turns are not supported as training data yet. */
public enum Role {
    SYSTEM, USER, ASSISTANT;

    /** The name templates compare against ({@code message['role'] == 'user'}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
