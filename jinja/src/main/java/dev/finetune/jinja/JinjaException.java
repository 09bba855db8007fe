package dev.finetune.jinja;

/**
 * A template that cannot be parsed or rendered. {@link #line()} is the 1-based line in the template
 * source where the problem is, or 0 when unknown.
 */
public class JinjaException extends RuntimeException {

    private final int line;

    public JinjaException(String message, int line) {
        super(line > 0 ? message + " (template line " + line + ")" : message);
        this.line = line;
    }

    public int line() {
        return line;
    }

    /** {@code raise_exception(msg)} called by the template itself: the template rejects its input. */
    public static final class Raised extends JinjaException {
        private final String templateMessage;

        public Raised(String templateMessage, int line) {
            super("chat template refused the input: " + templateMessage, line);
            this.templateMessage = templateMessage;
        }

        public String templateMessage() {
            return templateMessage;
        }
    }
}
