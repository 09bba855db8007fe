package dev.finetune.trainer.fuzz;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ArbitrarySupplier;
import net.jqwik.api.Combinators;

/**
 * One edit of a file's bytes: cut it off, drop a byte, or insert one of the characters that break parsers
 * (quotes, brackets, separators, a stray byte that is not UTF-8). {@code at} is taken modulo the length.
 */
public record TextMutation(Kind kind, int at, int choice) {

    public enum Kind { TRUNCATE, DELETE, INSERT }

    static final List<byte[]> INSERTS = List.of(new byte[] {'"'}, new byte[] {'{'}, new byte[] {'}'}, new byte[] {'['},
            new byte[] {']'}, new byte[] {','}, new byte[] {':'}, new byte[] {'\n'}, new byte[] {'\\'}, new byte[] {0},
            new byte[] {(byte) 0xE9}, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, new byte[] {'#'},
            new byte[] {'-', ' '}, new byte[] {'\t'}, new byte[] {'&', 'a'}, new byte[] {'*', 'a'}, new byte[] {'!', '!'});

    /** Up to three edits of a file's bytes: the parameter supplier the fuzz properties share ({@code @ForAll(supplier = TextMutation.Edits.class)}). */
    public static final class Edits implements ArbitrarySupplier<List<TextMutation>> {
        @Override
        public Arbitrary<List<TextMutation>> get() {
            return lists(3);
        }
    }

    public static Arbitrary<List<TextMutation>> lists(int max) {
        Arbitrary<TextMutation> one = Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 100_000),
                Arbitraries.integers().between(0, 100)).as(TextMutation::new);
        return one.list().ofMinSize(1).ofMaxSize(max);
    }

    public static byte[] applyAll(byte[] text, List<TextMutation> mutations) {
        byte[] b = text;
        for (TextMutation m : mutations) {
            b = m.apply(b);
        }
        return b;
    }

    byte[] apply(byte[] b) {
        int n = b.length;
        int k = n == 0 ? 0 : at % (n + 1);
        return switch (kind) {
            case TRUNCATE -> java.util.Arrays.copyOf(b, Math.min(k, n));
            case DELETE -> {
                if (n == 0 || k >= n) {
                    yield b;
                }
                byte[] out = new byte[n - 1];
                System.arraycopy(b, 0, out, 0, k);
                System.arraycopy(b, k + 1, out, k, n - k - 1);
                yield out;
            }
            case INSERT -> {
                byte[] ins = INSERTS.get(choice % INSERTS.size());
                byte[] out = new byte[n + ins.length];
                System.arraycopy(b, 0, out, 0, k);
                System.arraycopy(ins, 0, out, k, ins.length);
                System.arraycopy(b, k, out, k + ins.length, n - k);
                yield out;
            }
        };
    }
}
