package dev.finetune.jinja;

import dev.finetune.jinja.Py.Callable;
import dev.finetune.jinja.Py.Namespace;
import dev.finetune.jinja.Py.Undefined;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Globals, filters, tests and str/dict/list methods, as Jinja2 and Hugging Face's chat-template environment define them. */
final class Builtins {
    private Builtins() {
    }

    static final Map<String, Object> GLOBALS;

    static {
        Map<String, Object> g = new HashMap<>();
        g.put("raise_exception", (Callable) (args, kw) -> {
            throw new JinjaException.Raised(args.isEmpty() ? "" : Py.str(args.getFirst()), 0);
        });
        g.put("namespace", (Callable) (args, kw) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.attrs.put(Py.str(k), v));
                }
            }
            ns.attrs.putAll(kw);
            return ns;
        });
        g.put("range", (Callable) (args, kw) -> {
            long start = 0;
            long stop;
            long step = 1;
            if (args.size() == 1) {
                stop = Py.toLong(args.get(0));
            } else {
                start = Py.toLong(args.get(0));
                stop = Py.toLong(args.get(1));
                if (args.size() > 2) {
                    step = Py.toLong(args.get(2));
                }
            }
            if (step == 0) {
                throw new IllegalArgumentException("range() arg 3 must not be zero");
            }
            List<Object> r = new ArrayList<>();
            for (long v = start; step > 0 ? v < stop : v > stop; v += step) {
                r.add(v);
            }
            return r;
        });
        g.put("dict", (Callable) (args, kw) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> src) {
                m.putAll(src);
            }
            m.putAll(kw);
            return m;
        });
        g.put("strftime_now", (Callable) (args, kw) -> strftime(Py.str(args.getFirst()), ZonedDateTime.now()));
        GLOBALS = Collections.unmodifiableMap(g);
    }

    // ---------------------------------------------------------------- filters

    static Object filter(String name, Object v, List<Object> args, Map<String, Object> kw, int line) {
        try {
            return applyFilter(name, v, args, kw, line);
        } catch (JinjaException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new JinjaException("filter '" + name + "': " + e.getMessage(), line);
        }
    }

    private static Object arg(List<Object> args, Map<String, Object> kw, int pos, String name, Object dflt) {
        if (pos < args.size()) {
            return args.get(pos);
        }
        return kw.getOrDefault(name, dflt);
    }

    private static Object applyFilter(String name, Object v, List<Object> args, Map<String, Object> kw, int line) {
        switch (name) {
            case "trim": {
                Object chars = arg(args, kw, 0, "chars", null);
                return strip(Py.str(v), chars == null ? null : Py.str(chars), true, true);
            }
            case "tojson": {
                Object indent = arg(args, kw, 0, "indent", null);
                return Json.dump(v, indent == null ? -1 : (int) Py.toLong(indent), 0);
            }
            case "length":
            case "count":
                return (long) Py.length(v);
            case "string":
                return Py.str(v);
            case "upper":
                return Py.str(v).toUpperCase(Locale.ROOT);
            case "lower":
                return Py.str(v).toLowerCase(Locale.ROOT);
            case "capitalize": {
                String s = Py.str(v);
                return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            }
            case "title":
                return title(Py.str(v));
            case "first": {
                List<Object> l = Py.iterate(v);
                return l.isEmpty() ? new Undefined("first") : l.getFirst();
            }
            case "last": {
                List<Object> l = Py.iterate(v);
                return l.isEmpty() ? new Undefined("last") : l.getLast();
            }
            case "join": {
                String sep = Py.str(arg(args, kw, 0, "d", ""));
                Object attribute = arg(args, kw, 1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object o : Py.iterate(v)) {
                    sb.append(first ? "" : sep).append(Py.str(attribute == null ? o : attribute(o, attribute, line)));
                    first = false;
                }
                return sb.toString();
            }
            case "default":
            case "d": {
                Object dflt = arg(args, kw, 0, "default_value", "");
                boolean bool = Py.truthy(arg(args, kw, 1, "boolean", false));
                if (v instanceof Undefined || (bool && !Py.truthy(v))) {
                    return dflt;
                }
                return v;
            }
            case "replace": {
                String s = Py.str(v);
                String old = Py.str(args.get(0));
                String rep = Py.str(args.get(1));
                long count = args.size() > 2 ? Py.toLong(args.get(2)) : -1;
                return replace(s, old, rep, count);
            }
            case "list":
                return Py.iterate(v);
            case "int":
                try {
                    if (v instanceof String s) {
                        return Long.parseLong(s.trim());
                    }
                    return Py.toLong(v);
                } catch (RuntimeException e) {
                    return arg(args, kw, 0, "default", 0L);
                }
            case "float":
                try {
                    if (v instanceof String s) {
                        return Double.parseDouble(s.trim());
                    }
                    return Py.toDouble(v);
                } catch (RuntimeException e) {
                    return arg(args, kw, 0, "default", 0.0);
                }
            case "abs":
                return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.toLong(v));
            case "round": {
                long precision = Py.toLong(arg(args, kw, 0, "precision", 0L));
                double scale = Math.pow(10, precision);
                return Math.round(Py.toDouble(v) * scale) / scale;
            }
            case "items": {
                if (v instanceof Undefined) {
                    return List.of();
                }
                return items((Map<?, ?>) v);
            }
            case "reverse": {
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> l = Py.iterate(v);
                Collections.reverse(l);
                return l;
            }
            case "sort": {
                boolean reverse = Py.truthy(arg(args, kw, 0, "reverse", false));
                Object attribute = arg(args, kw, 2, "attribute", null);
                List<Object> l = Py.iterate(v);
                l.sort((a, b) -> Py.compare(attribute == null ? a : attribute(a, attribute, line),
                        attribute == null ? b : attribute(b, attribute, line)));
                if (reverse) {
                    Collections.reverse(l);
                }
                return l;
            }
            case "unique": {
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    if (!Py.contains(r, o)) {
                        r.add(o);
                    }
                }
                return r;
            }
            case "sum": {
                Object total = arg(args, kw, 1, "start", 0L);
                Object attribute = arg(args, kw, 0, "attribute", null);
                for (Object o : Py.iterate(v)) {
                    total = Interpreter.binary("+", total, attribute == null ? o : attribute(o, attribute, line), line);
                }
                return total;
            }
            case "min":
            case "max": {
                List<Object> l = Py.iterate(v);
                if (l.isEmpty()) {
                    return new Undefined(name);
                }
                Object best = l.getFirst();
                for (Object o : l) {
                    int c = Py.compare(o, best);
                    if (name.equals("min") ? c < 0 : c > 0) {
                        best = o;
                    }
                }
                return best;
            }
            case "map": {
                List<Object> r = new ArrayList<>();
                Object attribute = kw.get("attribute");
                for (Object o : Py.iterate(v)) {
                    if (attribute != null) {
                        Object x = attribute(o, attribute, line);
                        r.add(x instanceof Undefined && kw.containsKey("default") ? kw.get("default") : x);
                    } else {
                        r.add(filter(Py.str(args.getFirst()), o, args.subList(1, args.size()), Map.of(), line));
                    }
                }
                return r;
            }
            case "select":
            case "reject": {
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    boolean ok = args.isEmpty() ? Py.truthy(o)
                            : test(Py.str(args.getFirst()), o, args.subList(1, args.size()), line);
                    if (ok == name.equals("select")) {
                        r.add(o);
                    }
                }
                return r;
            }
            case "selectattr":
            case "rejectattr": {
                List<Object> r = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    Object a = attribute(o, args.getFirst(), line);
                    boolean ok = args.size() < 2 ? Py.truthy(a)
                            : test(Py.str(args.get(1)), a, args.subList(2, args.size()), line);
                    if (ok == name.equals("selectattr")) {
                        r.add(o);
                    }
                }
                return r;
            }
            case "indent": {
                Object width = arg(args, kw, 0, "width", 4L);
                String pad = width instanceof String s ? s : " ".repeat((int) Py.toLong(width));
                boolean first = Py.truthy(arg(args, kw, 1, "first", false));
                boolean blank = Py.truthy(arg(args, kw, 2, "blank", false));
                String[] lines = Py.str(v).split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < lines.length; k++) {
                    if (k > 0) {
                        sb.append('\n');
                    }
                    boolean indent = (k > 0 || first) && (blank || !lines[k].isBlank());
                    sb.append(indent ? pad : "").append(lines[k]);
                }
                return sb.toString();
            }
            case "format":
                return percentFormat(Py.str(v), args.size() == 1 ? args.getFirst() : new Py.Tuple(args));
            case "safe":
                return v;
            case "e":
            case "escape":
                return Py.str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
                        .replace("'", "&#39;");
            case "wordcount":
                return (long) splitWhitespace(Py.str(v), -1).size();
            case "center": {
                int width = (int) Py.toLong(arg(args, kw, 0, "width", 80L));
                String s = Py.str(v);
                int total = Math.max(0, width - s.length());
                int left = total / 2 + (total & width & 1);
                return " ".repeat(left) + s + " ".repeat(total - left);
            }
            case "dictsort": {
                List<Object> l = items((Map<?, ?>) v);
                l.sort((a, b) -> Py.compare(((List<?>) a).getFirst(), ((List<?>) b).getFirst()));
                return l;
            }
            case "batch": {
                int size = (int) Py.toLong(args.getFirst());
                List<Object> r = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                for (Object o : Py.iterate(v)) {
                    cur.add(o);
                    if (cur.size() == size) {
                        r.add(cur);
                        cur = new ArrayList<>();
                    }
                }
                if (!cur.isEmpty()) {
                    r.add(cur);
                }
                return r;
            }
            default:
                throw new JinjaException("no filter named '" + name + "'", line);
        }
    }

    private static Object attribute(Object o, Object attribute, int line) {
        Object cur = o;
        for (String part : Py.str(attribute).split("\\.")) {
            cur = part.matches("-?\\d+") ? Interpreter.getItem(cur, Long.parseLong(part), line)
                    : Interpreter.getItem(cur, part, line);
        }
        return cur;
    }

    // ---------------------------------------------------------------- tests

    static boolean test(String name, Object v, List<Object> args, int line) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map || v instanceof Namespace;
            case "iterable" -> v instanceof List || v instanceof Map || v instanceof String || v instanceof Undefined;
            case "sequence" -> v instanceof List || v instanceof Map || v instanceof String;
            case "callable" -> v instanceof Callable;
            case "even" -> Py.toLong(v) % 2 == 0;
            case "odd" -> Py.toLong(v) % 2 != 0;
            case "divisibleby" -> Py.toLong(v) % Py.toLong(args.getFirst()) == 0;
            case "eq", "equalto", "==" -> Py.eq(v, args.getFirst());
            case "ne", "!=" -> !Py.eq(v, args.getFirst());
            case "lt", "lessthan", "<" -> Py.compare(v, args.getFirst()) < 0;
            case "le", "<=" -> Py.compare(v, args.getFirst()) <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(v, args.getFirst()) > 0;
            case "ge", ">=" -> Py.compare(v, args.getFirst()) >= 0;
            case "in" -> Py.contains(args.getFirst(), v);
            case "sameas" -> v == args.getFirst() || (v != null && v.equals(args.getFirst()) && v instanceof Boolean);
            case "lower" -> Py.str(v).equals(Py.str(v).toLowerCase(Locale.ROOT));
            case "upper" -> Py.str(v).equals(Py.str(v).toUpperCase(Locale.ROOT));
            default -> throw new JinjaException("no test named '" + name + "'", line);
        };
    }

    // ---------------------------------------------------------------- methods

    static Callable stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (a, kw) -> strip(s, charsArg(a), true, true);
            case "lstrip" -> (a, kw) -> strip(s, charsArg(a), true, false);
            case "rstrip" -> (a, kw) -> strip(s, charsArg(a), false, true);
            case "split" -> (a, kw) -> split(s, a.isEmpty() ? kw.get("sep") : a.get(0),
                    a.size() > 1 ? Py.toLong(a.get(1)) : kw.containsKey("maxsplit") ? Py.toLong(kw.get("maxsplit")) : -1);
            case "rsplit" -> (a, kw) -> rsplit(s, a.isEmpty() ? null : a.get(0), a.size() > 1 ? Py.toLong(a.get(1)) : -1);
            case "splitlines" -> (a, kw) -> {
                List<Object> r = new ArrayList<>(List.of((Object[]) s.split("\r\n|\r|\n", -1)));
                if (!r.isEmpty() && "".equals(r.getLast())) {
                    r.removeLast();
                }
                return r;
            };
            case "startswith" -> (a, kw) -> affix(s, a.getFirst(), true);
            case "endswith" -> (a, kw) -> affix(s, a.getFirst(), false);
            case "upper" -> (a, kw) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, kw) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, kw) -> title(s);
            case "capitalize" -> (a, kw) -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> (a, kw) -> replace(s, Py.str(a.get(0)), Py.str(a.get(1)),
                    a.size() > 2 ? Py.toLong(a.get(2)) : -1);
            case "find" -> (a, kw) -> (long) s.indexOf(Py.str(a.getFirst()));
            case "rfind" -> (a, kw) -> (long) s.lastIndexOf(Py.str(a.getFirst()));
            case "count" -> (a, kw) -> {
                String sub = Py.str(a.getFirst());
                long n = 0;
                for (int k = s.indexOf(sub); k >= 0 && !sub.isEmpty(); k = s.indexOf(sub, k + sub.length())) {
                    n++;
                }
                return n;
            };
            case "join" -> (a, kw) -> {
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object o : Py.iterate(a.getFirst())) {
                    sb.append(first ? "" : s).append(Py.str(o));
                    first = false;
                }
                return sb.toString();
            };
            case "isdigit" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> (a, kw) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            case "format" -> (a, kw) -> pyFormat(s, a, kw);
            default -> null;
        };
    }

    static Callable dictMethod(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (a, kw) -> items(m);
            case "keys" -> (a, kw) -> new ArrayList<Object>(m.keySet());
            case "values" -> (a, kw) -> new ArrayList<Object>(m.values());
            case "get" -> (a, kw) -> m.containsKey(a.getFirst()) ? m.get(a.getFirst()) : a.size() > 1 ? a.get(1) : null;
            default -> null;
        };
    }

    static Callable listMethod(List<?> l, String name) {
        return switch (name) {
            case "index" -> (a, kw) -> {
                for (int k = 0; k < l.size(); k++) {
                    if (Py.eq(l.get(k), a.getFirst())) {
                        return (long) k;
                    }
                }
                throw new IllegalArgumentException(Py.repr(a.getFirst()) + " is not in list");
            };
            case "count" -> (a, kw) -> l.stream().filter(o -> Py.eq(o, a.getFirst())).count();
            default -> null;
        };
    }

    private static List<Object> items(Map<?, ?> m) {
        List<Object> r = new ArrayList<>();
        m.forEach((k, v) -> r.add(Py.Tuple.of(k, v)));
        return r;
    }

    private static String charsArg(List<Object> a) {
        return a.isEmpty() || a.getFirst() == null ? null : Py.str(a.getFirst());
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        if (left) {
            while (b < e && (chars == null ? Character.isWhitespace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) {
                b++;
            }
        }
        if (right) {
            while (e > b && (chars == null ? Character.isWhitespace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) {
                e--;
            }
        }
        return s.substring(b, e);
    }

    private static boolean affix(String s, Object prefix, boolean start) {
        if (prefix instanceof List<?> options) {
            for (Object o : options) {
                if (start ? s.startsWith(Py.str(o)) : s.endsWith(Py.str(o))) {
                    return true;
                }
            }
            return false;
        }
        return start ? s.startsWith(Py.str(prefix)) : s.endsWith(Py.str(prefix));
    }

    static List<Object> split(String s, Object sepArg, long maxsplit) {
        if (sepArg == null || sepArg instanceof Undefined) {
            return splitWhitespace(s, maxsplit);
        }
        String sep = Py.str(sepArg);
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<Object> r = new ArrayList<>();
        int from = 0;
        while (maxsplit < 0 || r.size() < maxsplit) {
            int k = s.indexOf(sep, from);
            if (k < 0) {
                break;
            }
            r.add(s.substring(from, k));
            from = k + sep.length();
        }
        r.add(s.substring(from));
        return r;
    }

    private static List<Object> rsplit(String s, Object sepArg, long maxsplit) {
        if (maxsplit < 0) {
            return split(s, sepArg, -1);
        }
        String sep = Py.str(sepArg);
        List<Object> r = new ArrayList<>();
        int end = s.length();
        while (r.size() < maxsplit) {
            int k = s.lastIndexOf(sep, end - sep.length());
            if (k < 0) {
                break;
            }
            r.addFirst(s.substring(k + sep.length(), end));
            end = k;
        }
        r.addFirst(s.substring(0, end));
        return r;
    }

    private static List<Object> splitWhitespace(String s, long maxsplit) {
        List<Object> r = new ArrayList<>();
        int k = 0;
        int n = s.length();
        while (k < n) {
            while (k < n && Character.isWhitespace(s.charAt(k))) {
                k++;
            }
            if (k >= n) {
                break;
            }
            if (maxsplit >= 0 && r.size() == maxsplit) {
                r.add(strip(s.substring(k), null, false, true));
                return r;
            }
            int b = k;
            while (k < n && !Character.isWhitespace(s.charAt(k))) {
                k++;
            }
            r.add(s.substring(b, k));
        }
        return r;
    }

    private static String replace(String s, String old, String rep, long count) {
        if (count < 0) {
            return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int k = s.indexOf(old, from);
            if (k < 0) {
                break;
            }
            sb.append(s, from, k).append(rep);
            from = k + old.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (char c : s.toCharArray()) {
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    /** Python slicing with negative indices and steps, on lists and (code points of) strings. */
    static Object slice(Object target, Object startV, Object stopV, Object stepV) {
        long step = stepV == null ? 1 : Py.toLong(stepV);
        if (step == 0) {
            throw new IllegalArgumentException("slice step cannot be zero");
        }
        List<Object> items;
        boolean string = target instanceof String;
        if (string) {
            items = Py.iterate(target);
        } else if (target instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else if (target instanceof Undefined u) {
            throw new JinjaException("'" + u.name() + "' is undefined (slicing)", 0);
        } else {
            throw new IllegalArgumentException("'" + Py.typeName(target) + "' object is not subscriptable");
        }
        long n = items.size();
        long start;
        long stop;
        if (step > 0) {
            start = startV == null ? 0 : clamp(Py.toLong(startV), n, 0, n);
            stop = stopV == null ? n : clamp(Py.toLong(stopV), n, 0, n);
        } else {
            start = startV == null ? n - 1 : clamp(Py.toLong(startV), n, -1, n - 1);
            stop = stopV == null ? -1 : clamp(Py.toLong(stopV), n, -1, n - 1);
        }
        List<Object> r = new ArrayList<>();
        for (long k = start; step > 0 ? k < stop : k > stop; k += step) {
            r.add(items.get((int) k));
        }
        if (string) {
            StringBuilder sb = new StringBuilder();
            r.forEach(o -> sb.append((String) o));
            return sb.toString();
        }
        return r;
    }

    private static long clamp(long idx, long n, long lo, long hi) {
        if (idx < 0) {
            idx += n;
        }
        return Math.max(lo, Math.min(hi, idx));
    }

    /** The {@code %} operator on strings, for %s / %d / %r with a value or a tuple. */
    static String percentFormat(String fmt, Object values) {
        List<Object> vals = values instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>(List.of(values));
        StringBuilder sb = new StringBuilder();
        int vi = 0;
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c != '%' || k + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char t = fmt.charAt(++k);
            switch (t) {
                case '%' -> sb.append('%');
                case 's' -> sb.append(Py.str(vals.get(vi++)));
                case 'r' -> sb.append(Py.repr(vals.get(vi++)));
                case 'd', 'i' -> sb.append(Py.toLong(vals.get(vi++)));
                default -> sb.append('%').append(t);
            }
        }
        return sb.toString();
    }

    private static String pyFormat(String fmt, List<Object> args, Map<String, Object> kw) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c == '{' && k + 1 < fmt.length() && fmt.charAt(k + 1) == '{') {
                sb.append('{');
                k++;
            } else if (c == '}' && k + 1 < fmt.length() && fmt.charAt(k + 1) == '}') {
                sb.append('}');
                k++;
            } else if (c == '{') {
                int end = fmt.indexOf('}', k);
                String field = fmt.substring(k + 1, end);
                Object v = field.isEmpty() ? args.get(auto++)
                        : field.matches("\\d+") ? args.get(Integer.parseInt(field)) : kw.get(field);
                sb.append(Py.str(v));
                k = end;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static String strftime(String fmt, ZonedDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c != '%' || k + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++k);
            switch (f) {
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(f);
            }
        }
        return sb.toString();
    }

    /** JSON as Hugging Face's {@code tojson} writes it: json.dumps(ensure_ascii=False), keys in insertion order. */
    static final class Json {
        private Json() {
        }

        static String dump(Object v, int indent, int level) {
            return switch (v) {
                case null -> "null";
                case Undefined u -> "null";
                case Boolean b -> b ? "true" : "false";
                case Long l -> l.toString();
                case Double d -> Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                        : Py.floatRepr(d);
                case String s -> quote(s);
                case List<?> l -> {
                    if (l.isEmpty()) {
                        yield "[]";
                    }
                    StringBuilder sb = new StringBuilder("[");
                    for (int k = 0; k < l.size(); k++) {
                        sb.append(k > 0 ? (indent >= 0 ? "," : ", ") : "");
                        newline(sb, indent, level + 1);
                        sb.append(dump(l.get(k), indent, level + 1));
                    }
                    newline(sb, indent, level);
                    yield sb.append(']').toString();
                }
                case Map<?, ?> m -> {
                    if (m.isEmpty()) {
                        yield "{}";
                    }
                    StringBuilder sb = new StringBuilder("{");
                    boolean first = true;
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        sb.append(first ? "" : (indent >= 0 ? "," : ", "));
                        newline(sb, indent, level + 1);
                        sb.append(quote(Py.str(e.getKey()))).append(": ").append(dump(e.getValue(), indent, level + 1));
                        first = false;
                    }
                    newline(sb, indent, level);
                    yield sb.append('}').toString();
                }
                case Namespace ns -> dump(ns.attrs, indent, level);
                default -> quote(Py.str(v));
            };
        }

        private static void newline(StringBuilder sb, int indent, int level) {
            if (indent >= 0) {
                sb.append('\n').append(" ".repeat(indent * level));
            }
        }

        static String quote(String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
    }

}
