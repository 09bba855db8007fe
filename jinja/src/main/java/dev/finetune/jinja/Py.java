package dev.finetune.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for template values. Values are Java objects: {@code null} (None),
 * {@link Undefined}, Boolean, Long, Double, String, List (lists and tuples), Map (dicts),
 * {@link Namespace}, {@link Callable} and loop objects.
 */
final class Py {
    private Py() {
    }

    /** Jinja's default Undefined: falsy, prints empty, iterates empty, fails on attribute access and arithmetic. */
    record Undefined(String name) {
        @Override
        public String toString() {
            return "";
        }
    }

    /** A function value: globals, macros, bound methods. */
    @FunctionalInterface
    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** {@code namespace(...)}: the one mutable object templates may assign attributes of. */
    static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
    }

    /** A Python tuple: an immutable list that prints with parentheses. */
    static final class Tuple extends java.util.AbstractList<Object> {
        private final List<Object> items;

        Tuple(List<?> items) {
            this.items = java.util.Collections.unmodifiableList(new ArrayList<>(items));
        }

        static Tuple of(Object... items) {
            return new Tuple(java.util.Arrays.asList(items));
        }

        @Override
        public Object get(int index) {
            return items.get(index);
        }

        @Override
        public int size() {
            return items.size();
        }
    }

    static boolean isNumber(Object o) {
        return o instanceof Long || o instanceof Double || o instanceof Boolean;
    }

    static boolean truthy(Object o) {
        return switch (o) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0.0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> true;
        };
    }

    /** Python's {@code str(o)}. */
    static String str(Object o) {
        return switch (o) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> floatRepr(d);
            default -> repr(o);
        };
    }

    /** Python's {@code repr(o)}. */
    static String repr(Object o) {
        return switch (o) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> stringRepr(s);
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> floatRepr(d);
            case Tuple t -> {
                StringBuilder sb = new StringBuilder("(");
                for (int k = 0; k < t.size(); k++) {
                    sb.append(k > 0 ? ", " : "").append(repr(t.get(k)));
                }
                yield sb.append(t.size() == 1 ? ",)" : ")").toString();
            }
            case List<?> l -> {
                StringBuilder sb = new StringBuilder("[");
                for (int k = 0; k < l.size(); k++) {
                    sb.append(k > 0 ? ", " : "").append(repr(l.get(k)));
                }
                yield sb.append(']').toString();
            }
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                    first = false;
                }
                yield sb.append('}').toString();
            }
            case Namespace n -> "<Namespace " + repr(n.attrs) + ">";
            default -> o.toString();
        };
    }

    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return BigDecimal.valueOf(d).toBigInteger().toString() + ".0";
        }
        String s = Double.toString(d); // shortest round-trip digits, like Python's repr
        if (s.contains("E")) {
            String mantissa = s.substring(0, s.indexOf('E'));
            int exp = Integer.parseInt(s.substring(s.indexOf('E') + 1));
            if (mantissa.endsWith(".0")) {
                mantissa = mantissa.substring(0, mantissa.length() - 2);
            }
            if (exp >= -4 && exp < 16) {
                return new BigDecimal(s).toPlainString();
            }
            return mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        return s;
    }

    static String stringRepr(String s) {
        char quote = s.contains("'") && !s.contains("\"") ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == quote) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append(quote).toString();
    }

    static String typeName(Object o) {
        return switch (o) {
            case null -> "NoneType";
            case Undefined u -> "Undefined";
            case Boolean b -> "bool";
            case Tuple t -> "tuple";
            case Long l -> "int";
            case Double d -> "float";
            case String s -> "str";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "Namespace";
            default -> o.getClass().getSimpleName();
        };
    }

    static double toDouble(Object o) {
        return switch (o) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new IllegalArgumentException("not a number: " + typeName(o));
        };
    }

    static long toLong(Object o) {
        return switch (o) {
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case Double d -> (long) (double) d;
            default -> throw new IllegalArgumentException("not an integer: " + typeName(o));
        };
    }

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            if ((a instanceof Double) || (b instanceof Double)) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (la.size() != lb.size()) {
                return false;
            }
            for (int k = 0; k < la.size(); k++) {
                if (!eq(la.get(k), lb.get(k))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                if (!mb.containsKey(e.getKey()) || !eq(e.getValue(), mb.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Undefined && b instanceof Undefined) {
            return true;
        }
        return a.equals(b);
    }

    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return Double.compare(toDouble(a), toDouble(b));
            }
            return Long.compare(toLong(a), toLong(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return sa.compareTo(sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            for (int k = 0; k < Math.min(la.size(), lb.size()); k++) {
                int c = compare(la.get(k), lb.get(k));
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw new IllegalArgumentException("'<' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s -> {
                if (!(item instanceof String sub)) {
                    throw new IllegalArgumentException("'in <string>' requires string as left operand, not "
                            + typeName(item));
                }
                yield s.contains(sub);
            }
            case List<?> l -> {
                for (Object o : l) {
                    if (eq(o, item)) {
                        yield true;
                    }
                }
                yield false;
            }
            case Map<?, ?> m -> m.containsKey(item);
            case Undefined u -> false;
            case null -> throw new IllegalArgumentException("argument of type 'NoneType' is not iterable");
            default -> throw new IllegalArgumentException("argument of type '" + typeName(container)
                    + "' is not iterable");
        };
    }

    /** Python iteration: lists, dict keys, string characters; Undefined iterates empty. */
    static List<Object> iterate(Object o) {
        return switch (o) {
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
                yield chars;
            }
            case Undefined u -> List.of();
            case Iterable<?> it -> {
                List<Object> all = new ArrayList<>();
                for (Iterator<?> x = it.iterator(); x.hasNext();) {
                    all.add(x.next());
                }
                yield all;
            }
            case null -> throw new IllegalArgumentException("'NoneType' object is not iterable");
            default -> throw new IllegalArgumentException("'" + typeName(o) + "' object is not iterable");
        };
    }

    static int length(Object o) {
        return switch (o) {
            case String s -> s.codePointCount(0, s.length());
            case List<?> l -> l.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            default -> throw new IllegalArgumentException("object of type '" + typeName(o) + "' has no len()");
        };
    }
}
