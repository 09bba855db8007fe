package dev.finetune.gpucheck;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of every check of one run: {@code pass}, {@code fail} (with the error) or {@code skipped}
 * (with the reason), and the figures the check measured. Written as JSON for {@code tools/gpu-check/run}.
 */
final class Report {

    /** A check's body: returns what it measured, throws (AssertionError or any exception) when it fails. */
    interface Body {
        Map<String, Object> run() throws Exception;
    }

    private final List<Map<String, Object>> checks = new ArrayList<>();
    private final Map<String, Object> environment = new LinkedHashMap<>();
    private final Path file;

    /** Rewrites {@code file} after every check, so a native crash in a later check keeps the earlier results. */
    Report(Path file) {
        this.file = file;
    }

    void environment(String key, Object value) {
        environment.put(key, value);
    }

    /** Runs {@code body} unless {@code skipReason} is non-null; one line per check on stdout. */
    void check(String name, String skipReason, Body body) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", name);
        long started = System.nanoTime();
        if (skipReason != null) {
            entry.put("status", "skipped");
            entry.put("reason", skipReason);
        } else {
            try {
                Map<String, Object> figures = body.run();
                entry.put("status", "pass");
                entry.put("figures", figures);
            } catch (Throwable t) {
                entry.put("status", "fail");
                entry.put("error", t.getClass().getSimpleName() + ": " + t.getMessage());
                StringWriter trace = new StringWriter();
                t.printStackTrace(new PrintWriter(trace));
                System.err.println("check '" + name + "' failed:\n" + trace);
            }
        }
        entry.put("seconds", Math.round((System.nanoTime() - started) / 1e6) / 1e3);
        checks.add(entry);
        try {
            write();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file, e);
        }
        System.out.println(switch ((String) entry.get("status")) {
            case "pass" -> "PASS " + name + " " + entry.get("figures");
            case "fail" -> "FAIL " + name + ": " + entry.get("error");
            default -> "SKIPPED " + name + ": " + entry.get("reason");
        });
    }

    boolean failed() {
        return checks.stream().anyMatch(c -> "fail".equals(c.get("status")));
    }

    void write() throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("environment", environment);
        root.put("checks", checks);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }

    static Map<String, Object> figures(Object... keyValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            out.put((String) keyValues[i], keyValues[i + 1]);
        }
        return out;
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }
}
