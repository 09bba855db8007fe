package dev.finetune.trainer.data;

/**
 * Bad training data, named precisely: the file, the line (and column for JSON syntax errors) or the
 * record index, the field, what is wrong ({@link #getMessage()}) and what would fix it ({@link #hint()}).
 *
 * <p>The trainer reports it as a permanent failure (reason {@code InvalidDataset}); retrying cannot help.
 */
public class DatasetException extends RuntimeException {

    private final SourceLocation location;
    private final String field;
    private final String problem;
    private final String hint;

    public DatasetException(SourceLocation location, String field, String problem, String hint) {
        this(location, field, problem, hint, null);
    }

    public DatasetException(SourceLocation location, String field, String problem, String hint, Throwable cause) {
        super(format(location, field, problem, hint), cause);
        this.location = location;
        this.field = field;
        this.problem = problem;
        this.hint = hint;
    }

    private static String format(SourceLocation location, String field, String problem, String hint) {
        StringBuilder sb = new StringBuilder();
        if (location != null) {
            sb.append(location).append(": ");
        }
        if (field != null) {
            sb.append("field '").append(field).append("': ");
        }
        sb.append(problem);
        if (hint != null) {
            sb.append(" (fix: ").append(hint).append(')');
        }
        return sb.toString();
    }

    /** Where the bad data is; null when the problem is not tied to one record (e.g. an empty dataset). */
    public SourceLocation location() {
        return location;
    }

    /** The record field at fault, e.g. {@code output} or {@code messages[2].role}; null when none applies. */
    public String field() {
        return field;
    }

    /** What is wrong, without location or hint. */
    public String problem() {
        return problem;
    }

    /** What would fix it, for a person. */
    public String hint() {
        return hint;
    }
}
