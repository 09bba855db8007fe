package dev.finetune.trainer.data.template;

import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.format.Message;
import dev.finetune.jinja.JinjaException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a chat template once on a plain two-turn conversation before any record is read. A template that
 * fails there (a variable the model's files do not define, such as a missing {@code bos_token}) fails on
 * every record, so the problem is the model's files or the template choice, not a record: it is reported
 * against {@code tokenizer_config.json} and never skipped by {@code dataset.skipInvalidRecords}. A template
 * that refuses the probe with {@code raise_exception} is left to judge each record itself.
 */
public final class TemplateCheck {

    private static final List<Message> PROBE = List.of(Message.user("Hello"), Message.assistant("Hi"));
    private static final Pattern UNDEFINED = Pattern.compile("'([A-Za-z_][A-Za-z0-9_]*)' is undefined");

    private TemplateCheck() {
    }

    /**
     * @param modelDir      the model directory whose tokenizer_config.json supplies the special tokens
     * @param specialTokens the variables the template is rendered with ({@code bos_token}, {@code eos_token})
     * @param extra         further variables, e.g. {@code enable_thinking}
     * @throws DatasetException naming tokenizer_config.json, the template and the missing variable
     */
    public static void renderProbe(ChatTemplate template, Path modelDir, Map<String, String> specialTokens,
            Map<String, Object> extra) {
        for (boolean generationPrompt : new boolean[] {true, false}) {
            try {
                template.render(generationPrompt ? PROBE.subList(0, 1) : PROBE, generationPrompt, specialTokens, extra);
            } catch (JinjaException.Raised refused) {
                return;
            } catch (JinjaException e) {
                throw failure(template, modelDir, e);
            }
        }
    }

    private static DatasetException failure(ChatTemplate template, Path modelDir, JinjaException e) {
        String config = modelDir.resolve("tokenizer_config.json").toString();
        String problem = "chat template '" + template.name() + "' (" + template.origin() + ") fails on every "
                + "conversation: " + e.getMessage();
        Matcher undefined = UNDEFINED.matcher(e.getMessage());
        if (undefined.find() && undefined.group(1).endsWith("_token")) {
            String variable = undefined.group(1);
            return new DatasetException(SourceLocation.ofFile(config), variable, problem + "; the model's files define no "
                    + variable, "add \"" + variable + "\" to " + config + " (the token text, e.g. \"<s>\"), or set "
                    + "dataset.template to a named template: " + ChatTemplate.NAMED.stream().sorted().toList(), e);
        }
        return new DatasetException(SourceLocation.ofFile(config), "chat_template", problem,
                "set dataset.template to a named template: " + ChatTemplate.NAMED.stream().sorted().toList(), e);
    }
}
