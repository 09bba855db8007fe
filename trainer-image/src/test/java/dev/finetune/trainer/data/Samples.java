package dev.finetune.trainer.data;

import dev.finetune.trainer.data.label.EncodedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test helpers that read labels back as text. */
public final class Samples {
    private Samples() {
    }

    /** The decoded runs of consecutive learned tokens, in order. */
    public static List<String> learnedRuns(ModelTokenizer tok, int[] ids, int[] labels) {
        List<String> runs = new ArrayList<>();
        int k = 0;
        while (k < ids.length) {
            if (labels[k] == Labels.IGNORE) {
                k++;
                continue;
            }
            int s = k;
            while (k < ids.length && labels[k] != Labels.IGNORE) {
                k++;
            }
            runs.add(tok.decode(Arrays.copyOfRange(ids, s, k)));
        }
        return runs;
    }

    public static List<String> learnedRuns(ModelTokenizer tok, EncodedSample s) {
        return learnedRuns(tok, s.inputIds(), s.labels());
    }
}
