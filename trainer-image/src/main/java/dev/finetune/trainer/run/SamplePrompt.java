package dev.finetune.trainer.run;

import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A prompt from the data the report shows generations for, before and after training: a sample's tokens up
 * to its first learned token, and the learned run that follows as the reference answer.
 *
 * @param ids the prompt's token ids
 * @param text the prompt as text
 * @param reference the first learned run as text
 */
record SamplePrompt(int[] ids, String text, String reference) {

    /** The first {@code count} eval samples (training samples without an eval set) that have a prompt. */
    static List<SamplePrompt> from(PreparedDataset data, ModelTokenizer tokenizer, int count) {
        List<TokenizedSample> pool = data.eval().isEmpty() ? data.train() : data.eval();
        List<SamplePrompt> out = new ArrayList<>();
        for (TokenizedSample s : pool) {
            if (out.size() >= count) {
                break;
            }
            int[] labels = s.labels();
            int first = 0;
            while (first < labels.length && labels[first] == Labels.IGNORE) {
                first++;
            }
            if (first == 0 || first == labels.length) {
                continue;
            }
            int end = first;
            while (end < labels.length && labels[end] != Labels.IGNORE) {
                end++;
            }
            int[] prompt = Arrays.copyOf(s.inputIds(), first);
            int[] answer = Arrays.copyOfRange(s.inputIds(), first, end);
            out.add(new SamplePrompt(prompt, tokenizer.decode(prompt), tokenizer.decode(answer)));
        }
        return out;
    }
}
