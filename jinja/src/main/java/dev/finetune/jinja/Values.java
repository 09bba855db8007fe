package dev.finetune.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Converts caller data into the template's value model (Long for integers, Double for floats, mutable copies). */
final class Values {
    private Values() {
    }

    static Object normalize(Object v) {
        return switch (v) {
            case null -> null;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Map<?, ?> m -> {
                Map<Object, Object> r = new LinkedHashMap<>();
                m.forEach((k, x) -> r.put(k, normalize(x)));
                yield r;
            }
            case List<?> l -> {
                List<Object> r = new ArrayList<>(l.size());
                l.forEach(x -> r.add(normalize(x)));
                yield r;
            }
            default -> v;
        };
    }
}
