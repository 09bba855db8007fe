package dev.finetune.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens with the whitespace rules Hugging Face uses for chat
 * templates: {@code trim_blocks=True}, {@code lstrip_blocks=True}, {@code keep_trailing_newline=False},
 * plus the explicit {@code -} / {@code +} modifiers on tags.
 */
final class JinjaLexer {

    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, NUMBER, OP, EOF }

    record Tok(Kind kind, String text, Object value, int line) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }

        boolean isOp(String t) {
            return kind == Kind.OP && text.equals(t);
        }

        boolean isName(String t) {
            return kind == Kind.NAME && text.equals(t);
        }
    }

    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}",
        ",", ".", ":", "|"
    };

    private final String src;
    private final List<Tok> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** True at the start of the source and right after a tag whose consumed text ended with a newline. */
    private boolean lineStarting = true;

    private JinjaLexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1); // keep_trailing_newline=False
        }
        this.src = s;
    }

    static List<Tok> tokenize(String source) {
        JinjaLexer lexer = new JinjaLexer(source);
        lexer.run();
        return lexer.out;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            String text = src.substring(pos, tag < 0 ? src.length() : tag);
            if (tag < 0) {
                emitText(text);
                pos = src.length();
                break;
            }
            char kind = src.charAt(tag + 1);
            char modifier = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            if (modifier == '-') {
                text = rstrip(text);
            } else if (modifier != '+' && kind != '{') {
                int lineStart = text.lastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && isBlank(text, lineStart) && lineStart < text.length()) {
                    text = text.substring(0, lineStart);
                }
            }
            emitText(text);
            int tagLine = line + countNewlines(src, pos, tag);
            line = tagLine;
            pos = tag + 2 + (modifier == '-' || modifier == '+' ? 1 : 0);
            switch (kind) {
                case '#' -> comment(tagLine);
                case '{' -> tagBody(Kind.VAR_BEGIN, Kind.VAR_END, "}}", tagLine);
                default -> {
                    if (isRawStart()) {
                        raw(tagLine);
                    } else {
                        tagBody(Kind.BLOCK_BEGIN, Kind.BLOCK_END, "%}", tagLine);
                    }
                }
            }
        }
        out.add(new Tok(Kind.EOF, "", null, line));
    }

    private int nextTagStart(int from) {
        int i = from;
        while (true) {
            int j = src.indexOf('{', i);
            if (j < 0 || j + 1 >= src.length()) {
                return -1;
            }
            char c = src.charAt(j + 1);
            if (c == '{' || c == '%' || c == '#') {
                return j;
            }
            i = j + 1;
        }
    }

    private void emitText(String text) {
        if (!text.isEmpty()) {
            out.add(new Tok(Kind.TEXT, text, text, line));
        }
    }

    private void comment(int tagLine) {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
            throw new JinjaException("comment is never closed with #}", tagLine);
        }
        boolean stripAfter = end > pos && src.charAt(end - 1) == '-';
        line += countNewlines(src, pos, end);
        pos = end + 2;
        afterTag(stripAfter, true);
    }

    private boolean isRawStart() {
        int i = skipSpaces(pos);
        return src.startsWith("raw", i) && closesAfter(i + 3);
    }

    private boolean closesAfter(int i) {
        int j = skipSpaces(i);
        return src.startsWith("%}", j) || src.startsWith("-%}", j);
    }

    private void raw(int tagLine) {
        int i = skipSpaces(pos) + 3;
        i = skipSpaces(i);
        boolean strip = src.charAt(i) == '-';
        pos = i + (strip ? 3 : 2);
        afterTag(strip, true);
        int search = pos;
        while (true) {
            int tag = src.indexOf("{%", search);
            if (tag < 0) {
                throw new JinjaException("raw block is never closed with {% endraw %}", tagLine);
            }
            int k = tag + 2;
            boolean stripBefore = k < src.length() && src.charAt(k) == '-';
            int name = skipSpaces(k + (stripBefore || (k < src.length() && src.charAt(k) == '+') ? 1 : 0));
            if (src.startsWith("endraw", name) && closesAfter(name + 6)) {
                String text = src.substring(pos, tag);
                if (stripBefore) {
                    text = rstrip(text);
                }
                emitText(text);
                line += countNewlines(src, pos, tag);
                int close = skipSpaces(name + 6);
                boolean stripAfter = src.charAt(close) == '-';
                line += countNewlines(src, tag, close);
                pos = close + (stripAfter ? 3 : 2);
                afterTag(stripAfter, true);
                return;
            }
            search = tag + 2;
        }
    }

    private void tagBody(Kind begin, Kind end, String closer, int tagLine) {
        out.add(new Tok(begin, begin == Kind.VAR_BEGIN ? "{{" : "{%", null, tagLine));
        int depth = 0;
        while (true) {
            if (pos >= src.length()) {
                throw new JinjaException("tag is never closed with " + closer, tagLine);
            }
            char c = src.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
                continue;
            }
            if (Character.isWhitespace(c)) {
                pos++;
                continue;
            }
            if (depth == 0) {
                boolean minus = c == '-' && src.startsWith(closer, pos + 1);
                boolean plus = c == '+' && src.startsWith(closer, pos + 1);
                if (minus || plus || src.startsWith(closer, pos)) {
                    pos += closer.length() + (minus || plus ? 1 : 0);
                    out.add(new Tok(end, closer, null, line));
                    afterTag(minus, end == Kind.BLOCK_END && !plus);
                    return;
                }
            }
            if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int s = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                String name = src.substring(s, pos);
                out.add(new Tok(Kind.NAME, name, name, line));
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw new JinjaException("unexpected character '" + c + "' in tag", line);
                }
                if (op.equals("(") || op.equals("[") || op.equals("{")) {
                    depth++;
                } else if (op.equals(")") || op.equals("]") || op.equals("}")) {
                    depth--;
                }
                pos += op.length();
                out.add(new Tok(Kind.OP, op, op, line));
            }
        }
    }

    /** After a tag: '-' strips all following whitespace; trim_blocks removes one newline after a block tag. */
    private void afterTag(boolean stripAll, boolean trimNewline) {
        int start = pos;
        if (stripAll) {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                if (src.charAt(pos) == '\n') {
                    line++;
                }
                pos++;
            }
        } else if (trimNewline && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
            line++;
        }
        lineStarting = pos > start && src.charAt(pos - 1) == '\n';
    }

    private void string(char quote) {
        int startLine = line;
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw new JinjaException("string literal is never closed", startLine);
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '0' -> sb.append('\0');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case '\n' -> line++;
                case 'x' -> sb.append(hex(2));
                case 'u' -> sb.append(hex(4));
                case 'U' -> sb.appendCodePoint(Integer.parseInt(src.substring(pos, pos += 8), 16));
                default -> sb.append('\\').append(e);
            }
        }
        out.add(new Tok(Kind.STRING, sb.toString(), sb.toString(), startLine));
    }

    private char hex(int digits) {
        char ch = (char) Integer.parseInt(src.substring(pos, pos + digits), 16);
        pos += digits;
        return ch;
    }

    private void number() {
        int s = pos;
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                pos++;
            }
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        String text = src.substring(s, pos).replace("_", "");
        Object value = isFloat ? (Object) Double.parseDouble(text) : (Object) Long.parseLong(text);
        out.add(new Tok(Kind.NUMBER, text, value, line));
    }

    private int skipSpaces(int i) {
        while (i < src.length() && Character.isWhitespace(src.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isBlank(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && Character.isWhitespace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }

    private static int countNewlines(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
