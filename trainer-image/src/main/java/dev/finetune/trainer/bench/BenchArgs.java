package dev.finetune.trainer.bench;

import java.util.HashMap;
import java.util.Map;

/** The {@code key=value} arguments of a benchmark's main method, each with its default. */
public final class BenchArgs {

    private final Map<String, String> values = new HashMap<>();

    private BenchArgs() {
    }

    public static BenchArgs parse(String... args) {
        BenchArgs parsed = new BenchArgs();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            }
            parsed.values.put(kv[0], kv[1]);
        }
        return parsed;
    }

    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public int integer(String key, int fallback) {
        String value = values.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value + ": not an integer", e);
        }
    }

    public boolean flag(String key, boolean fallback) {
        String value = values.get(key);
        return value == null ? fallback : Boolean.parseBoolean(value);
    }
}
