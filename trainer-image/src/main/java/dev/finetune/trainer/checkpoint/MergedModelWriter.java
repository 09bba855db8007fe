package dev.finetune.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderLayer;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;


/**
 * A merged model: a Hugging Face directory loadable as a base model (config.json, model.safetensors,
 * tokenizer and generation files copied from the base), with every adapter folded into its weight.
 * Weights are written in the base checkpoint's dtype (config {@code torch_dtype}).
 */
public final class MergedModelWriter {

    private MergedModelWriter() {}

    public static void write(LoraModel lora, Path dir) throws IOException {
        DecoderModel model = lora.base();
        boolean wasMerged = lora.adapters().stream().allMatch(a -> a.merged());
        lora.merge();
        try {
            Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp");
            TrainingCheckpoint.deleteTree(tmp);
            Files.createDirectories(tmp);
            String dtype = switch (model.config().torchDtype()) {
                case "bfloat16" -> DType.BF16;
                case "float16" -> DType.F16;
                default -> DType.F32;
            };
            SafetensorsWriter w = new SafetensorsWriter();
            add(w, model, "model.embed_tokens.weight", model.embedTokens(), dtype);
            for (int i = 0; i < model.layers().size(); i++) {
                DecoderLayer layer = model.layers().get(i);
                String p = "model.layers." + i + ".";
                add(w, model, p + "input_layernorm.weight", layerNorm(layer, true), dtype);
                add(w, model, p + "post_attention_layernorm.weight", layerNorm(layer, false), dtype);
                if (model.config().qkNorm()) {
                    add(w, model, p + "self_attn.q_norm.weight", layer.qNormWeight(), dtype);
                    add(w, model, p + "self_attn.k_norm.weight", layer.kNormWeight(), dtype);
                }
                for (Linear linear : layer.linears()) {
                    add(w, model, linear.path() + ".weight", linear.weight(), dtype);
                    if (linear.effectiveBias() != null) {
                        add(w, model, linear.path() + ".bias", linear.effectiveBias(), dtype);
                    }
                }
            }
            add(w, model, "model.norm.weight", model.finalNorm(), dtype);
            if (!model.config().tieWordEmbeddings()) {
                add(w, model, "lm_head.weight", model.lmHead(), dtype);
            }
            w.write(tmp.resolve("model.safetensors"));
            for (String name : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                    "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja")) {
                Path src = model.directory().resolve(name);
                if (Files.isRegularFile(src)) {
                    Files.copy(src, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            TrainingCheckpoint.deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (!wasMerged) {
                lora.unmerge();
            }
        }
    }

    private static NDArray layerNorm(DecoderLayer layer, boolean input) {
        return input ? layer.inputNormWeight() : layer.postAttentionNormWeight();
    }

    private static void add(SafetensorsWriter w, DecoderModel model, String name, NDArray tensor, String dtype) {
        float[] values;
        try (NDArray fp32 = model.kernels().cast(tensor, DataType.FLOAT32)) {
            values = fp32.toFloatArray();
        }
        w.addFloats(name, dtype, tensor.getShape().getShape(), values);
    }

}
