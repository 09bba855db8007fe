package dev.finetune.trainer.data.curriculum;

import dev.finetune.api.v1alpha1.DataSelection;
import dev.finetune.api.v1alpha1.SelectionKey;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.batch.TokenizedSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code dataset.selection}: drop exact duplicates (same token ids, i.e. the same rendered text), drop samples
 * outside [minTokens, maxTokens] (lengths before truncation), then keep the top N (highest score, or shortest).
 * Order among the kept samples is their original order.
 */
public final class Selection {
    private Selection() {
    }

    /** What selection kept and how many each step dropped. */
    public record Result(List<TokenizedSample> kept, int duplicates, int tooShort, int tooLong, int belowTopN) {
    }

    public static Result apply(List<TokenizedSample> samples, DataSelection spec) {
        if (spec == null) {
            return new Result(List.copyOf(samples), 0, 0, 0, 0);
        }
        List<TokenizedSample> cur = new ArrayList<>(samples);
        int duplicates = 0;
        if (spec.isDedupe()) {
            Set<Key> seen = new HashSet<>();
            List<TokenizedSample> unique = new ArrayList<>();
            for (TokenizedSample s : cur) {
                if (seen.add(new Key(s.inputIds()))) {
                    unique.add(s);
                } else {
                    duplicates++;
                }
            }
            cur = unique;
        }
        int tooShort = 0;
        int tooLong = 0;
        List<TokenizedSample> inRange = new ArrayList<>();
        for (TokenizedSample s : cur) {
            if (spec.getMinTokens() != null && s.originalLength() < spec.getMinTokens()) {
                tooShort++;
            } else if (spec.getMaxTokens() != null && s.originalLength() > spec.getMaxTokens()) {
                tooLong++;
            } else {
                inRange.add(s);
            }
        }
        cur = inRange;
        int belowTopN = 0;
        if (spec.getTopN() != null && cur.size() > spec.getTopN()) {
            List<Integer> order = new ArrayList<>();
            for (int k = 0; k < cur.size(); k++) {
                order.add(k);
            }
            List<TokenizedSample> all = cur;
            Comparator<Integer> best = spec.getBy() == SelectionKey.LENGTH
                    ? Comparator.comparingInt(k -> all.get(k).originalLength())
                    : Comparator.comparingDouble(k -> -score(all.get(k), spec.getScoreField()));
            order.sort(best.thenComparingInt(k -> k));
            boolean[] keep = new boolean[cur.size()];
            for (int k = 0; k < spec.getTopN(); k++) {
                keep[order.get(k)] = true;
            }
            List<TokenizedSample> top = new ArrayList<>();
            for (int k = 0; k < cur.size(); k++) {
                if (keep[k]) {
                    top.add(cur.get(k));
                }
            }
            belowTopN = cur.size() - top.size();
            cur = top;
        }
        return new Result(List.copyOf(cur), duplicates, tooShort, tooLong, belowTopN);
    }

    static double score(TokenizedSample s, String field) {
        Double v = s.scores().get(field);
        if (v == null) {
            throw new DatasetException(s.source(), field, "has no numeric score",
                    "give every record a numeric '" + field + "' field, or rank by length");
        }
        return v;
    }

    private record Key(int[] ids) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(ids, k.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }
}
