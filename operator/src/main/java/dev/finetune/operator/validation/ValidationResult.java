package dev.finetune.operator.validation;

/**
 * The outcome of the checks the API server cannot do.
 *
 * @param reason CamelCase condition reason: Valid, or why not
 * @param message a sentence naming the field / object and what would fix it
 * @param waiting true when the problem can go away without a spec change (a PVC still binding, another job
 *                still using the output path); false when someone has to act
 */
public record ValidationResult(boolean valid, String reason, String message, boolean waiting) {

    public static final String VALID = "Valid";

    public static ValidationResult ok() {
        return new ValidationResult(true, VALID, "The spec passed the operator's checks: volumes exist and are bound, "
                + "the output path is not used by another job.", false);
    }

    public static ValidationResult invalid(String reason, String message) {
        return new ValidationResult(false, reason, message, false);
    }

    public static ValidationResult waiting(String reason, String message) {
        return new ValidationResult(false, reason, message, true);
    }
}
