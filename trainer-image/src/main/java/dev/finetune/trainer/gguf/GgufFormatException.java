package dev.finetune.trainer.gguf;

/**
 * A GGUF file that cannot be read or imported as it is. The message names the file, the metadata key or
 * tensor, and the byte offset where reading stopped, so a truncated download or an unsupported model is
 * told apart from a bug.
 */
public final class GgufFormatException extends RuntimeException {

    public GgufFormatException(String message) {
        super(message);
    }

    public GgufFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
