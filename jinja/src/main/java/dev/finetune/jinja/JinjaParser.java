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
import dev.finetune.jinja.JinjaLexer.Kind;
import dev.finetune.jinja.JinjaLexer.Tok;
import java.util.ArrayList;
import java.util.List;

/** Recursive-descent parser with Jinja2's operator precedence (filters and tests bind tighter than arithmetic). */
final class JinjaParser {

    private final List<Tok> toks;
    private int i;

    private JinjaParser(List<Tok> toks) {
        this.toks = toks;
    }

    static Body parse(String source) {
        JinjaParser p = new JinjaParser(JinjaLexer.tokenize(source));
        Body body = p.body(List.of());
        if (p.peek().kind() != Kind.EOF) {
            throw new JinjaException("unexpected tag '" + p.peekBlockName() + "'", p.peek().line());
        }
        return body;
    }

    // ---------------------------------------------------------------- statements

    /** Parses nodes until a block tag whose name is in {@code enders} (left unconsumed) or EOF. */
    private Body body(List<String> enders) {
        int line = peek().line();
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Tok t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!enders.isEmpty()) {
                        throw new JinjaException("missing {% " + enders.getLast() + " %}", t.line());
                    }
                    return new Body(nodes, line);
                }
                case TEXT -> {
                    next();
                    nodes.add(new Text(t.text(), t.line()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr e = expression();
                    expect(Kind.VAR_END, "}}");
                    nodes.add(new Output(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    String name = peekBlockName();
                    if (enders.contains(name)) {
                        return new Body(nodes, line);
                    }
                    next();
                    nodes.add(statement());
                }
                default -> throw new JinjaException("unexpected " + t.text(), t.line());
            }
        }
    }

    private String peekBlockName() {
        Tok n = toks.get(Math.min(i + 1, toks.size() - 1));
        return n.text();
    }

    private Node statement() {
        Tok nameTok = next();
        if (nameTok.kind() != Kind.NAME) {
            throw new JinjaException("expected a statement name, got '" + nameTok.text() + "'", nameTok.line());
        }
        int line = nameTok.line();
        switch (nameTok.text()) {
            case "if" -> {
                return ifStatement(line);
            }
            case "for" -> {
                return forStatement(line);
            }
            case "set" -> {
                return setStatement(line);
            }
            case "macro" -> {
                return macroStatement(line);
            }
            case "break" -> {
                endTag();
                return new Break(line);
            }
            case "continue" -> {
                endTag();
                return new Continue(line);
            }
            case "generation" -> {
                // Hugging Face's AssistantTracker extension: the body renders unchanged.
                endTag();
                Body b = body(List.of("endgeneration"));
                closeBlock("endgeneration");
                return b;
            }
            default -> throw new JinjaException("unsupported statement '" + nameTok.text() + "'", line);
        }
    }

    private Node ifStatement(int line) {
        List<Expr> conditions = new ArrayList<>();
        List<Body> branches = new ArrayList<>();
        conditions.add(expression());
        endTag();
        Body otherwise = null;
        while (true) {
            branches.add(body(List.of("elif", "else", "endif")));
            next(); // {%
            String which = next().text();
            if (which.equals("elif")) {
                conditions.add(expression());
                endTag();
            } else if (which.equals("else")) {
                endTag();
                otherwise = body(List.of("endif"));
                closeBlock("endif");
                break;
            } else {
                endTag();
                break;
            }
        }
        return new If(conditions, branches, otherwise, line);
    }

    private Node forStatement(int line) {
        List<String> targets = new ArrayList<>();
        boolean paren = acceptOp("(");
        do {
            targets.add(name());
        } while (acceptOp(","));
        if (paren) {
            expectOp(")");
        }
        if (!next().isName("in")) {
            throw new JinjaException("expected 'in' in for loop", line);
        }
        Expr iterable = orExpr(); // 'if' here starts the loop filter, not a conditional expression
        Expr filter = null;
        if (peek().isName("if")) {
            next();
            filter = expression();
        }
        if (peek().isName("recursive")) {
            throw new JinjaException("recursive loops are not supported", line);
        }
        endTag();
        Body body = body(List.of("else", "endfor"));
        Body otherwise = null;
        next();
        if (next().text().equals("else")) {
            endTag();
            otherwise = body(List.of("endfor"));
            closeBlock("endfor");
        } else {
            endTag();
        }
        return new For(targets, iterable, filter, body, otherwise, line);
    }

    private Node setStatement(int line) {
        List<String> targets = new ArrayList<>();
        String first = name();
        if (acceptOp(".")) {
            String attr = name();
            expectOp("=");
            Expr value = expression();
            endTag();
            return new Set(List.of(first), attr, value, line);
        }
        targets.add(first);
        while (acceptOp(",")) {
            targets.add(name());
        }
        if (peek().kind() == Kind.BLOCK_END && targets.size() == 1) {
            endTag();
            Body b = body(List.of("endset"));
            closeBlock("endset");
            return new SetBlock(first, b, line);
        }
        expectOp("=");
        Expr value = tupleOrExpression();
        endTag();
        return new Set(targets, null, value, line);
    }

    private Node macroStatement(int line) {
        String name = name();
        expectOp("(");
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (!acceptOp(")")) {
            do {
                params.add(name());
                defaults.add(acceptOp("=") ? expression() : null);
            } while (acceptOp(","));
            expectOp(")");
        }
        endTag();
        Body b = body(List.of("endmacro"));
        closeBlock("endmacro");
        return new Macro(name, params, defaults, b, line);
    }

    private void closeBlock(String name) {
        expect(Kind.BLOCK_BEGIN, "{%");
        Tok t = next();
        if (!t.isName(name)) {
            throw new JinjaException("expected {% " + name + " %}, got '" + t.text() + "'", t.line());
        }
        endTag();
    }

    private void endTag() {
        expect(Kind.BLOCK_END, "%}");
    }

    // ---------------------------------------------------------------- expressions

    private Expr tupleOrExpression() {
        int line = peek().line();
        Expr first = expression();
        if (!peek().isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (acceptOp(",")) {
            items.add(expression());
        }
        return new TupleExpr(items, line);
    }

    Expr expression() {
        Expr e = orExpr();
        if (peek().isName("if")) {
            int line = next().line();
            Expr cond = orExpr();
            Expr otherwise = null;
            if (peek().isName("else")) {
                next();
                otherwise = expression();
            }
            return new Conditional(cond, e, otherwise, line);
        }
        return e;
    }

    private Expr orExpr() {
        Expr left = andExpr();
        while (peek().isName("or")) {
            int line = next().line();
            left = new Or(left, andExpr(), line);
        }
        return left;
    }

    private Expr andExpr() {
        Expr left = notExpr();
        while (peek().isName("and")) {
            int line = next().line();
            left = new And(left, notExpr(), line);
        }
        return left;
    }

    private Expr notExpr() {
        if (peek().isName("not")) {
            int line = next().line();
            return new Not(notExpr(), line);
        }
        return compare();
    }

    private Expr compare() {
        int line = peek().line();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Tok t = peek();
            if (t.kind() == Kind.OP && List.of("==", "!=", "<", ">", "<=", ">=").contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && toks.get(i + 1).isName("in")) {
                next();
                next();
                ops.add("notin");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Compare(first, ops, rest, line);
    }

    private Expr math1() {
        Expr left = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Tok op = next();
            left = new Binary(op.text(), left, concat(), op.line());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (peek().isOp("~")) {
            Tok op = next();
            left = new Binary("~", left, math2(), op.line());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Tok op = next();
            left = new Binary(op.text(), left, pow(), op.line());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (peek().isOp("**")) {
            Tok op = next();
            left = new Binary("**", left, unary(true), op.line());
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Tok t = peek();
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            node = new Unary(t.text(), unary(false), t.line());
        } else {
            node = postfix(primary());
        }
        return withFilter ? filterExpr(node) : node;
    }

    private Expr primary() {
        Tok t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Literal(Boolean.TRUE, t.line());
                    case "false", "False" -> new Literal(Boolean.FALSE, t.line());
                    case "none", "None" -> new Literal(null, t.line());
                    default -> new Name(t.text(), t.line());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) {
                    sb.append(next().text()); // adjacent literals concatenate, as in Python
                }
                return new Literal(sb.toString(), t.line());
            }
            case NUMBER -> {
                return new Literal(t.value(), t.line());
            }
            case OP -> {
                switch (t.text()) {
                    case "(" -> {
                        if (acceptOp(")")) {
                            return new TupleExpr(List.of(), t.line());
                        }
                        Expr e = expression();
                        if (peek().isOp(",")) {
                            List<Expr> items = new ArrayList<>(List.of(e));
                            while (acceptOp(",")) {
                                if (peek().isOp(")")) {
                                    break;
                                }
                                items.add(expression());
                            }
                            expectOp(")");
                            return new TupleExpr(items, t.line());
                        }
                        expectOp(")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!peek().isOp("]")) {
                            items.add(expression());
                            if (!acceptOp(",")) {
                                break;
                            }
                        }
                        expectOp("]");
                        return new ListExpr(items, t.line());
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!peek().isOp("}")) {
                            keys.add(expression());
                            expectOp(":");
                            values.add(expression());
                            if (!acceptOp(",")) {
                                break;
                            }
                        }
                        expectOp("}");
                        return new DictExpr(keys, values, t.line());
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        throw new JinjaException("unexpected '" + t.text() + "' in expression", t.line());
    }

    private Expr postfix(Expr node) {
        while (true) {
            Tok t = peek();
            if (t.isOp(".")) {
                next();
                Tok n = next();
                if (n.kind() == Kind.NAME) {
                    node = new GetAttr(node, n.text(), n.line());
                } else if (n.kind() == Kind.NUMBER) {
                    node = new GetItem(node, new Literal(n.value(), n.line()), n.line());
                } else {
                    throw new JinjaException("expected an attribute name after '.'", n.line());
                }
            } else if (t.isOp("[")) {
                next();
                node = subscript(node, t.line());
            } else if (t.isOp("(")) {
                next();
                node = call(node, t.line());
            } else {
                return node;
            }
        }
    }

    private Expr subscript(Expr target, int line) {
        Expr start = null;
        if (!peek().isOp(":")) {
            start = expression();
            if (acceptOp("]")) {
                return new GetItem(target, start, line);
            }
        }
        expectOp(":");
        Expr stop = null;
        Expr step = null;
        if (!peek().isOp("]") && !peek().isOp(":")) {
            stop = expression();
        }
        if (acceptOp(":") && !peek().isOp("]")) {
            step = expression();
        }
        expectOp("]");
        return new Slice(target, start, stop, step, line);
    }

    private Call call(Expr callee, int line) {
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Call(callee, args, kwNames, kwValues, line);
    }

    /** After '(' : positional and keyword arguments up to and including ')'. */
    private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
        while (!peek().isOp(")")) {
            if (peek().kind() == Kind.NAME && toks.get(i + 1).isOp("=")) {
                kwNames.add(next().text());
                next();
                kwValues.add(expression());
            } else {
                args.add(expression());
            }
            if (!acceptOp(",")) {
                break;
            }
        }
        expectOp(")");
    }

    private Expr filterExpr(Expr node) {
        while (true) {
            Tok t = peek();
            if (t.isOp("|")) {
                next();
                String name = dottedName();
                List<Expr> args = new ArrayList<>();
                List<String> kwNames = new ArrayList<>();
                List<Expr> kwValues = new ArrayList<>();
                if (acceptOp("(")) {
                    callArgs(args, kwNames, kwValues);
                }
                node = new Filter(node, name, args, kwNames, kwValues, t.line());
            } else if (t.isName("is")) {
                next();
                boolean negated = false;
                if (peek().isName("not")) {
                    next();
                    negated = true;
                }
                String name = dottedName();
                List<Expr> args = new ArrayList<>();
                if (acceptOp("(")) {
                    List<String> kwNames = new ArrayList<>();
                    callArgs(args, kwNames, new ArrayList<>());
                } else if (startsTestArgument(peek())) {
                    args.add(unary(false));
                }
                node = new Test(node, name, args, negated, t.line());
            } else if (t.isOp("(")) {
                next();
                node = call(node, t.line());
            } else {
                return node;
            }
        }
    }

    private static boolean startsTestArgument(Tok t) {
        return switch (t.kind()) {
            case STRING, NUMBER -> true;
            case NAME -> !List.of("else", "or", "and", "if", "is", "in", "not").contains(t.text());
            case OP -> t.text().equals("[") || t.text().equals("{") || t.text().equals("-");
            default -> false;
        };
    }

    private String dottedName() {
        StringBuilder sb = new StringBuilder(name());
        while (peek().isOp(".") && toks.get(i + 1).kind() == Kind.NAME) {
            next();
            sb.append('.').append(name());
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- token helpers

    private Tok peek() {
        return toks.get(i);
    }

    private Tok next() {
        Tok t = toks.get(i);
        if (t.kind() != Kind.EOF) {
            i++;
        }
        return t;
    }

    private String name() {
        Tok t = next();
        if (t.kind() != Kind.NAME) {
            throw new JinjaException("expected a name, got '" + t.text() + "'", t.line());
        }
        return t.text();
    }

    private boolean acceptOp(String op) {
        if (peek().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    private void expectOp(String op) {
        Tok t = next();
        if (!t.isOp(op)) {
            throw new JinjaException("expected '" + op + "', got '" + t.text() + "'", t.line());
        }
    }

    private void expect(Kind kind, String what) {
        Tok t = next();
        if (t.kind() != kind) {
            throw new JinjaException("expected '" + what + "', got '" + t.text() + "'", t.line());
        }
    }
}
