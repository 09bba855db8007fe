package dev.finetune.jinja;

import java.util.List;

/** The parsed template: statements ({@link Node}) and expressions ({@link Expr}), each with its source line. */
final class Ast {
    private Ast() {
    }

    sealed interface Node permits Text, Output, If, For, Set, SetBlock, Macro, Break, Continue, Body {
        int line();
    }

    record Body(List<Node> nodes, int line) implements Node {
    }

    record Text(String text, int line) implements Node {
    }

    record Output(Expr expr, int line) implements Node {
    }

    record If(List<Expr> conditions, List<Body> branches, Body otherwise, int line) implements Node {
    }

    record For(List<String> targets, Expr iterable, Expr filter, Body body, Body otherwise, int line) implements Node {
    }

    /** {@code set a = x}, {@code set a, b = x} or {@code set ns.attr = x}. */
    record Set(List<String> targets, String attribute, Expr value, int line) implements Node {
    }

    record SetBlock(String target, Body body, int line) implements Node {
    }

    record Macro(String name, List<String> params, List<Expr> defaults, Body body, int line) implements Node {
    }

    record Break(int line) implements Node {
    }

    record Continue(int line) implements Node {
    }

    sealed interface Expr permits Literal, Name, ListExpr, TupleExpr, DictExpr, GetAttr, GetItem, Slice, Call, Filter,
            Test, Unary, Binary, And, Or, Not, Compare, Conditional {
        int line();
    }

    record Literal(Object value, int line) implements Expr {
    }

    record Name(String name, int line) implements Expr {
    }

    record ListExpr(List<Expr> items, int line) implements Expr {
    }

    record TupleExpr(List<Expr> items, int line) implements Expr {
    }

    record DictExpr(List<Expr> keys, List<Expr> values, int line) implements Expr {
    }

    record GetAttr(Expr target, String name, int line) implements Expr {
    }

    record GetItem(Expr target, Expr key, int line) implements Expr {
    }

    record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {
    }

    record Call(Expr callee, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line) implements Expr {
    }

    record Filter(Expr target, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line)
            implements Expr {
    }

    record Test(Expr target, String name, List<Expr> args, boolean negated, int line) implements Expr {
    }

    record Unary(String op, Expr operand, int line) implements Expr {
    }

    record Binary(String op, Expr left, Expr right, int line) implements Expr {
    }

    record And(Expr left, Expr right, int line) implements Expr {
    }

    record Or(Expr left, Expr right, int line) implements Expr {
    }

    record Not(Expr operand, int line) implements Expr {
    }

    /** A comparison chain {@code a < b <= c}, ops among == != < > <= >= in notin. */
    record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr {
    }

    record Conditional(Expr condition, Expr then, Expr otherwise, int line) implements Expr {
    }
}
