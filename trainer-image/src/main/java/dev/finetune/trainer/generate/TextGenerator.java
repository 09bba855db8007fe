package dev.finetune.trainer.generate;

import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Generator;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Text from token ids: decodes with the model's tokenizer until one of its stop tokens
 * ({@link dev.finetune.trainer.data.tokenize.SpecialTokens#stopIds()}), which is left out of the text. What
 * {@code finetune generate} prints and what a run's report shows before and after training.
 */
public final class TextGenerator {

    private final Generator generator;
    private final ModelTokenizer tokenizer;
    private final Set<Long> stops;

    /** Generates with {@code model} as it is (with its adapters, when a LoRA model is attached). */
    public TextGenerator(DecoderModel model, ModelTokenizer tokenizer) {
        this.generator = new Generator(model);
        this.tokenizer = tokenizer;
        this.stops = tokenizer.specialTokens().stopIds().stream().map(Integer::longValue).collect(Collectors.toSet());
    }

    /** The text the model writes after {@code prompt} (token ids), without the stop token. */
    public String continuation(int[] prompt, Generator.Options options) {
        long[] ids = Arrays.stream(prompt).asLongStream().toArray();
        List<Long> generated = generator.generate(ids, options, stops);
        int[] tokens = generated.stream().filter(id -> !stops.contains(id)).mapToInt(Long::intValue).toArray();
        return tokenizer.decode(tokens);
    }

    /** {@link #continuation(int[], Generator.Options)} of a text prompt. */
    public String continuation(String prompt, Generator.Options options) {
        return continuation(tokenizer.encode(prompt).ids(), options);
    }
}
