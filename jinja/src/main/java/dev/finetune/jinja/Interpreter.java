package dev.finetune.jinja;

import dev.finetune.jinja.Ast.And;
import dev.finetune.jinja.Ast.Binary;
import dev.finetune.jinja.Ast.Body;
import dev.finetune.jinja.Ast.Break;
import dev.finetune.jinja.Ast.Call;
import dev.finetune.jinja.Ast.Compare;
import dev.finetune.jinja.Ast.Conditional;
import dev.finetune.jinja.Ast.Continue;
import dev.finetune.jinja.Ast.DictExpr;
import dev.finetune.jinja.Ast.Expr;
import dev.finetune.jinja.Ast.Filter;
import dev.finetune.jinja.Ast.For;
import dev.finetune.jinja.Ast.GetAttr;
import dev.finetune.jinja.Ast.GetItem;
import dev.finetune.jinja.Ast.If;
import dev.finetune.jinja.Ast.ListExpr;
import dev.finetune.jinja.Ast.Literal;
import dev.finetune.jinja.Ast.Macro;
import dev.finetune.jinja.Ast.Name;
import dev.finetune.jinja.Ast.Node;
import dev.finetune.jinja.Ast.Not;
import dev.finetune.jinja.Ast.Or;
import dev.finetune.jinja.Ast.Output;
import dev.finetune.jinja.Ast.Set;
import dev.finetune.jinja.Ast.SetBlock;
import dev.finetune.jinja.Ast.Slice;
import dev.finetune.jinja.Ast.Test;
import dev.finetune.jinja.Ast.Text;
import dev.finetune.jinja.Ast.TupleExpr;
import dev.finetune.jinja.Ast.Unary;
import dev.finetune.jinja.Py.Callable;
import dev.finetune.jinja.Py.Namespace;
import dev.finetune.jinja.Py.Undefined;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Walks the parsed template. One instance per render; not thread-safe (the template itself is). */
final class Interpreter {

    /** A variable scope. Loop iterations and macro calls get a fresh one; if-blocks do not (as in Jinja2). */
    static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Undefined(name);
        }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() {
            super(null, null, false, false);
        }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() {
            super(null, null, false, false);
        }
    }

    /** Jinja's {@code loop} variable. */
    static final class Loop {
        final List<Object> items;
        int index0;

        Loop(List<Object> items) {
            this.items = items;
        }

        Object attr(String name) {
            int n = items.size();
            return switch (name) {
                case "index0" -> (long) index0;
                case "index" -> (long) index0 + 1;
                case "revindex" -> (long) (n - index0);
                case "revindex0" -> (long) (n - index0 - 1);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> 1L;
                case "depth0" -> 0L;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("previtem");
                case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("nextitem");
                case "cycle" -> (Callable) (args, kw) -> args.isEmpty() ? new Undefined("cycle")
                        : args.get(index0 % args.size());
                default -> new Undefined("loop." + name);
            };
        }
    }

    private final StringBuilder out = new StringBuilder();

    String render(Body template, Map<String, Object> globals) {
        Scope root = new Scope(null);
        root.vars.putAll(Builtins.GLOBALS);
        root.vars.putAll(globals);
        exec(template, new Scope(root), out);
        return out.toString();
    }

    private void exec(Node node, Scope scope, StringBuilder sb) {
        switch (node) {
            case Body b -> {
                for (Node n : b.nodes()) {
                    exec(n, scope, sb);
                }
            }
            case Text t -> sb.append(t.text());
            case Output o -> sb.append(Py.str(eval(o.expr(), scope)));
            case If f -> {
                for (int k = 0; k < f.conditions().size(); k++) {
                    if (Py.truthy(eval(f.conditions().get(k), scope))) {
                        exec(f.branches().get(k), scope, sb);
                        return;
                    }
                }
                if (f.otherwise() != null) {
                    exec(f.otherwise(), scope, sb);
                }
            }
            case For f -> execFor(f, scope, sb);
            case Set s -> execSet(s, scope);
            case SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                exec(s.body(), scope, captured);
                scope.vars.put(s.target(), captured.toString());
            }
            case Macro m -> scope.vars.put(m.name(), macro(m, scope));
            case Break b -> throw new BreakSignal();
            case Continue c -> throw new ContinueSignal();
        }
    }

    private void execFor(For f, Scope scope, StringBuilder sb) {
        Object iterable = eval(f.iterable(), scope);
        List<Object> items;
        try {
            items = Py.iterate(iterable);
        } catch (IllegalArgumentException e) {
            throw new JinjaException(e.getMessage(), f.line());
        }
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope s = new Scope(scope);
                bindTargets(f.targets(), item, s, f.line());
                if (Py.truthy(eval(f.filter(), s))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        Loop loop = new Loop(Collections.unmodifiableList(items));
        for (int k = 0; k < items.size(); k++) {
            loop.index0 = k;
            Scope s = new Scope(scope);
            s.vars.put("loop", loop);
            bindTargets(f.targets(), items.get(k), s, f.line());
            try {
                exec(f.body(), s, sb);
            } catch (BreakSignal b) {
                break;
            } catch (ContinueSignal c) {
                // next iteration
            }
        }
        if (items.isEmpty() && f.otherwise() != null) {
            exec(f.otherwise(), scope, sb);
        }
    }

    private void bindTargets(List<String> targets, Object value, Scope scope, int line) {
        if (targets.size() == 1) {
            scope.vars.put(targets.getFirst(), value);
            return;
        }
        List<Object> parts;
        try {
            parts = Py.iterate(value);
        } catch (IllegalArgumentException e) {
            throw new JinjaException("cannot unpack " + Py.typeName(value), line);
        }
        if (parts.size() != targets.size()) {
            throw new JinjaException("cannot unpack " + parts.size() + " values into " + targets.size() + " names", line);
        }
        for (int k = 0; k < targets.size(); k++) {
            scope.vars.put(targets.get(k), parts.get(k));
        }
    }

    private void execSet(Set s, Scope scope) {
        Object value = eval(s.value(), scope);
        if (s.attribute() != null) {
            Object target = scope.lookup(s.targets().getFirst());
            if (!(target instanceof Namespace ns)) {
                throw new JinjaException("cannot assign attribute on non-namespace object '" + s.targets().getFirst()
                        + "'", s.line());
            }
            ns.attrs.put(s.attribute(), value);
            return;
        }
        bindTargets(s.targets(), value, scope, s.line());
    }

    private Callable macro(Macro m, Scope definedIn) {
        return (args, kwargs) -> {
            Scope s = new Scope(definedIn);
            for (int k = 0; k < m.params().size(); k++) {
                String p = m.params().get(k);
                Object v;
                if (k < args.size()) {
                    v = args.get(k);
                } else if (kwargs.containsKey(p)) {
                    v = kwargs.get(p);
                } else if (m.defaults().get(k) != null) {
                    v = eval(m.defaults().get(k), s);
                } else {
                    v = new Undefined(p);
                }
                s.vars.put(p, v);
            }
            StringBuilder sb = new StringBuilder();
            exec(m.body(), s, sb);
            return sb.toString();
        };
    }

    // ---------------------------------------------------------------- expressions

    Object eval(Expr e, Scope scope) {
        try {
            return evalUnchecked(e, scope);
        } catch (JinjaException je) {
            throw je;
        } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException ex) {
            throw new JinjaException(ex.getMessage(), e.line());
        }
    }

    private Object evalUnchecked(Expr e, Scope scope) {
        return switch (e) {
            case Literal l -> l.value();
            case Name n -> scope.lookup(n.name());
            case ListExpr l -> {
                List<Object> items = new ArrayList<>();
                for (Expr x : l.items()) {
                    items.add(eval(x, scope));
                }
                yield items;
            }
            case TupleExpr t -> {
                List<Object> items = new ArrayList<>();
                for (Expr x : t.items()) {
                    items.add(eval(x, scope));
                }
                yield new Py.Tuple(items);
            }
            case DictExpr d -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) {
                    m.put(eval(d.keys().get(k), scope), eval(d.values().get(k), scope));
                }
                yield m;
            }
            case GetAttr g -> getAttr(eval(g.target(), scope), g.name(), g.line());
            case GetItem g -> getItem(eval(g.target(), scope), eval(g.key(), scope), g.line());
            case Slice s -> Builtins.slice(eval(s.target(), scope), optional(s.start(), scope), optional(s.stop(), scope),
                    optional(s.step(), scope));
            case Call c -> call(c, scope);
            case Filter f -> {
                Object target = eval(f.target(), scope);
                List<Object> args = new ArrayList<>();
                for (Expr a : f.args()) {
                    args.add(eval(a, scope));
                }
                Map<String, Object> kw = new LinkedHashMap<>();
                for (int k = 0; k < f.kwNames().size(); k++) {
                    kw.put(f.kwNames().get(k), eval(f.kwValues().get(k), scope));
                }
                yield Builtins.filter(f.name(), target, args, kw, f.line());
            }
            case Test t -> {
                Object target = eval(t.target(), scope);
                List<Object> args = new ArrayList<>();
                for (Expr a : t.args()) {
                    args.add(eval(a, scope));
                }
                boolean r = Builtins.test(t.name(), target, args, t.line());
                yield t.negated() != r;
            }
            case Unary u -> {
                Object v = eval(u.operand(), scope);
                undefinedCheck(v, u.line());
                if (u.op().equals("+")) {
                    yield v;
                }
                yield v instanceof Double d ? (Object) (-d) : (Object) (-Py.toLong(v));
            }
            case Binary b -> binary(b.op(), eval(b.left(), scope), eval(b.right(), scope), b.line());
            case And a -> {
                Object l = eval(a.left(), scope);
                yield Py.truthy(l) ? eval(a.right(), scope) : l;
            }
            case Or o -> {
                Object l = eval(o.left(), scope);
                yield Py.truthy(l) ? l : eval(o.right(), scope);
            }
            case Not n -> !Py.truthy(eval(n.operand(), scope));
            case Compare c -> {
                Object left = eval(c.first(), scope);
                for (int k = 0; k < c.ops().size(); k++) {
                    Object right = eval(c.rest().get(k), scope);
                    if (!compare(c.ops().get(k), left, right)) {
                        yield false;
                    }
                    left = right;
                }
                yield true;
            }
            case Conditional c -> Py.truthy(eval(c.condition(), scope)) ? eval(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("") : eval(c.otherwise(), scope);
        };
    }

    private Object optional(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> Py.eq(a, b);
            case "!=" -> !Py.eq(a, b);
            case "<" -> Py.compare(a, b) < 0;
            case ">" -> Py.compare(a, b) > 0;
            case "<=" -> Py.compare(a, b) <= 0;
            case ">=" -> Py.compare(a, b) >= 0;
            case "in" -> Py.contains(b, a);
            case "notin" -> !Py.contains(b, a);
            default -> throw new IllegalStateException(op);
        };
    }

    private static void undefinedCheck(Object v, int line) {
        if (v instanceof Undefined u) {
            throw new JinjaException("'" + u.name() + "' is undefined", line);
        }
    }

    static Object binary(String op, Object a, Object b, int line) {
        if (op.equals("~")) {
            return Py.str(a) + Py.str(b);
        }
        undefinedCheck(a, line);
        undefinedCheck(b, line);
        switch (op) {
            case "+" -> {
                if (a instanceof String sa && b instanceof String sb) {
                    return sa + sb;
                }
                if (a instanceof List<?> la && b instanceof List<?> lb) {
                    List<Object> r = new ArrayList<>(la);
                    r.addAll(lb);
                    return r;
                }
            }
            case "*" -> {
                if (a instanceof String s && b instanceof Long n) {
                    return s.repeat((int) Math.max(0, n));
                }
                if (a instanceof Long n && b instanceof String s) {
                    return s.repeat((int) Math.max(0, n));
                }
                if (a instanceof List<?> l && b instanceof Long n) {
                    List<Object> r = new ArrayList<>();
                    for (int k = 0; k < n; k++) {
                        r.addAll(l);
                    }
                    return r;
                }
            }
            case "%" -> {
                if (a instanceof String s) {
                    return Builtins.percentFormat(s, b);
                }
            }
            default -> {
            }
        }
        if (!Py.isNumber(a) || !Py.isNumber(b)) {
            throw new JinjaException("unsupported operand type(s) for " + op + ": '" + Py.typeName(a) + "' and '"
                    + Py.typeName(b) + "'", line);
        }
        boolean floats = a instanceof Double || b instanceof Double;
        switch (op) {
            case "+":
                return floats ? (Object) (Py.toDouble(a) + Py.toDouble(b)) : (Object) (Py.toLong(a) + Py.toLong(b));
            case "-":
                return floats ? (Object) (Py.toDouble(a) - Py.toDouble(b)) : (Object) (Py.toLong(a) - Py.toLong(b));
            case "*":
                return floats ? (Object) (Py.toDouble(a) * Py.toDouble(b)) : (Object) (Py.toLong(a) * Py.toLong(b));
            case "/":
                if (Py.toDouble(b) == 0) {
                    throw new JinjaException("division by zero", line);
                }
                return Py.toDouble(a) / Py.toDouble(b);
            case "//":
                if (Py.toDouble(b) == 0) {
                    throw new JinjaException("integer division or modulo by zero", line);
                }
                return floats ? (Object) Math.floor(Py.toDouble(a) / Py.toDouble(b))
                        : (Object) Math.floorDiv(Py.toLong(a), Py.toLong(b));
            case "%":
                if (Py.toDouble(b) == 0) {
                    throw new JinjaException("integer division or modulo by zero", line);
                }
                if (floats) {
                    double x = Py.toDouble(a);
                    double y = Py.toDouble(b);
                    return x - Math.floor(x / y) * y;
                }
                return Math.floorMod(Py.toLong(a), Py.toLong(b));
            case "**":
                if (!floats && Py.toLong(b) >= 0) {
                    long r = 1;
                    for (long k = 0; k < Py.toLong(b); k++) {
                        r *= Py.toLong(a);
                    }
                    return r;
                }
                return Math.pow(Py.toDouble(a), Py.toDouble(b));
            default:
                throw new JinjaException("unknown operator " + op, line);
        }
    }

    private Object call(Call c, Scope scope) {
        Object callee = eval(c.callee(), scope);
        List<Object> args = new ArrayList<>();
        for (Expr a : c.args()) {
            args.add(eval(a, scope));
        }
        Map<String, Object> kw = new LinkedHashMap<>();
        for (int k = 0; k < c.kwNames().size(); k++) {
            kw.put(c.kwNames().get(k), eval(c.kwValues().get(k), scope));
        }
        if (callee instanceof Callable fn) {
            try {
                return fn.call(args, kw);
            } catch (JinjaException.Raised r) {
                throw new JinjaException.Raised(r.templateMessage(), c.line());
            } catch (JinjaException je) {
                throw je.line() > 0 ? je : new JinjaException(je.getMessage(), c.line());
            } catch (IllegalArgumentException | IndexOutOfBoundsException ex) {
                throw new JinjaException(ex.getMessage(), c.line());
            }
        }
        if (callee instanceof Undefined u) {
            throw new JinjaException("'" + u.name() + "' is undefined", c.line());
        }
        throw new JinjaException("'" + Py.typeName(callee) + "' object is not callable", c.line());
    }

    /** Jinja's {@code getattr}: attribute (incl. methods) first, then item. */
    static Object getAttr(Object target, String name, int line) {
        switch (target) {
            case Undefined u -> throw new JinjaException("'" + (u.name().isEmpty() ? "value" : u.name())
                    + "' is undefined (reading ." + name + ")", line);
            case Namespace ns -> {
                return ns.attrs.containsKey(name) ? ns.attrs.get(name) : new Undefined(name);
            }
            case Loop loop -> {
                return loop.attr(name);
            }
            case Map<?, ?> m -> {
                Callable method = Builtins.dictMethod(m, name);
                if (method != null) {
                    return method;
                }
                return m.containsKey(name) ? m.get(name) : new Undefined(name);
            }
            case String s -> {
                Callable method = Builtins.stringMethod(s, name);
                return method != null ? method : new Undefined(name);
            }
            case List<?> l -> {
                Callable method = Builtins.listMethod(l, name);
                return method != null ? method : new Undefined(name);
            }
            default -> {
                return new Undefined(name);
            }
        }
    }

    /** Jinja's {@code getitem}: item first, then attribute. */
    static Object getItem(Object target, Object key, int line) {
        switch (target) {
            case Undefined u -> throw new JinjaException("'" + (u.name().isEmpty() ? "value" : u.name())
                    + "' is undefined (reading [" + Py.repr(key) + "])", line);
            case Map<?, ?> m -> {
                if (m.containsKey(key)) {
                    return m.get(key);
                }
                return key instanceof String s ? getAttr(target, s, line) : new Undefined(Py.str(key));
            }
            case List<?> l -> {
                if (key instanceof Long || key instanceof Boolean) {
                    long idx = Py.toLong(key);
                    if (idx < 0) {
                        idx += l.size();
                    }
                    return idx >= 0 && idx < l.size() ? l.get((int) idx) : new Undefined("[" + key + "]");
                }
                return key instanceof String s ? getAttr(target, s, line) : new Undefined(Py.str(key));
            }
            case String s -> {
                if (key instanceof Long idx) {
                    int[] cps = s.codePoints().toArray();
                    long k = idx < 0 ? idx + cps.length : idx;
                    return k >= 0 && k < cps.length ? new String(cps, (int) k, 1) : new Undefined("[" + key + "]");
                }
                return key instanceof String n ? getAttr(target, n, line) : new Undefined(Py.str(key));
            }
            default -> {
                return key instanceof String s ? getAttr(target, s, line) : new Undefined(Py.str(key));
            }
        }
    }
}
