package dev.finetune.api.validation;

/**
 * One reason a FineTuneJob is rejected, worded like the Kubernetes API server words it, so the same
 * mistake reads the same from {@code finetune run} and from {@code kubectl apply}.
 *
 * @param field the field's path, e.g. {@code spec.lora.rank}
 * @param message what is wrong and, where it helps, how to fix it
 */
public record Violation(String field, String message) {

    @Override
    public String toString() {
        return field + ": " + message;
    }
}
