package dev.finetune.jinja;

import java.util.Map;

/**
 * A compiled Jinja2 template, rendered the way Hugging Face renders chat templates
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with the
 * {@code loopcontrols} extension, its {@code tojson} filter and the {@code raise_exception} and
 * {@code strftime_now} globals).
 *
 * <p>Values passed in are plain Java data: {@code String}, {@code Boolean}, integral numbers,
 * floating numbers, {@code List}, {@code Map} and {@code null} (Python's None). Keys missing from a
 * map read as Jinja's {@code Undefined}, so {@code message.reasoning_content is defined} works.
 *
 * <p>Immutable and thread-safe: parse once, render many times.
 */
public final class JinjaTemplate {

    private final Ast.Body root;
    private final String source;

    private JinjaTemplate(String source, Ast.Body root) {
        this.source = source;
        this.root = root;
    }

    /** Parses {@code source}; throws {@link JinjaException} naming the template line on a syntax error. */
    public static JinjaTemplate compile(String source) {
        return new JinjaTemplate(source, JinjaParser.parse(source));
    }

    public String source() {
        return source;
    }

    /**
     * Renders with {@code variables} as globals. Throws {@link JinjaException} when the template fails
     * (undefined attribute access, type errors) and {@link JinjaException.Raised} when it calls
     * {@code raise_exception}.
     */
    public String render(Map<String, ?> variables) {
        @SuppressWarnings("unchecked")
        Map<String, Object> vars = (Map<String, Object>) Values.normalize(variables);
        return new Interpreter().render(root, vars);
    }
}
