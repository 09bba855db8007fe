package dev.finetune.trainer.cli;

import dev.finetune.trainer.data.format.Message;
import dev.finetune.trainer.data.template.ChatTemplate;
import dev.finetune.trainer.data.tokenize.ModelTokenizer;
import java.util.List;
import java.util.Map;

/** Renders one user turn with the model's own chat template, for {@code finetune generate --chat}. */
final class ChatPrompt {

    private ChatPrompt() {}

    static String render(ModelTokenizer tokenizer, String user) {
        String source = tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                tokenizer.directory() + "/tokenizer_config.json has no chat_template; drop --chat and pass the full prompt"));
        ChatTemplate template = ChatTemplate.of("model", tokenizer.directory().resolve("tokenizer_config.json").toString(), source);
        return template.render(List.of(Message.user(user)), true, tokenizer.specialTokens().templateVariables(), Map.of());
    }
}
