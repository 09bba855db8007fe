package dev.finetune.trainer.data.tokenize;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The model's special tokens as its files declare them.
 *
 * @param bos          beginning-of-sequence text (null: the model has none, e.g. Qwen)
 * @param bosId        its id, or -1
 * @param eos          end-of-sequence text from tokenizer_config.json
 * @param eosId        its id, or -1
 * @param padId        the padding id: tokenizer_config pad_token, else generation_config / config pad_token_id, else eos
 * @param stopIds      every id generation stops on: eos, generation_config / config eos_token_id(s), and the
 *                     end-of-turn tokens of known chat formats present in the vocabulary ({@code <|eot_id|>},
 *                     {@code <|im_end|>}, {@code <end_of_turn>}, ...)
 * @param addBosToken  tokenizer_config add_bos_token (plain-text samples start with BOS when true)
 */
public record SpecialTokens(String bos, int bosId, String eos, int eosId, int padId, Set<Integer> stopIds,
        boolean addBosToken) {

    /** The variables HF passes to chat templates: {@code bos_token}, {@code eos_token} (absent ones omitted). */
    public Map<String, String> templateVariables() {
        Map<String, String> m = new LinkedHashMap<>();
        if (bos != null) {
            m.put("bos_token", bos);
        }
        if (eos != null) {
            m.put("eos_token", eos);
        }
        return m;
    }
}
