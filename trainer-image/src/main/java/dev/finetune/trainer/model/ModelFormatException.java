package dev.finetune.trainer.model;

/** A model directory that cannot be used as it is: names the file (and key) and what would fix it. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
