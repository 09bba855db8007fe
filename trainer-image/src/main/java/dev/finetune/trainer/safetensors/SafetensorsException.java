package dev.finetune.trainer.safetensors;

/** A malformed or inconsistent safetensors file; the message names the file and the tensor. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
