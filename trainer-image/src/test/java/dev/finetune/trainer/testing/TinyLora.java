package dev.finetune.trainer.testing;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import java.nio.file.Path;

/**
 * A tiny random model with LoRA r=4, alpha=8 on every linear layer, in a manager of its own; closing it closes
 * the adapter, the model and the manager, in that order.
 */
public record TinyLora(NDManager manager, DecoderModel model, LoraModel lora) implements AutoCloseable {

    public static TinyLora allLinear(Path dir, TinyModels.Spec spec, DataType dtype) {
        NDManager manager = Engine.manager().newSubManager();
        DecoderModel model = TinyModels.load(dir, spec, dtype, manager);
        return new TinyLora(manager, model, LoraModel.attach(model, LoraSettings.of(4, 8, TargetModule.ALL_LINEAR), 1));
    }

    @Override
    public void close() {
        try (manager; model; lora) {
            // try-with-resources closes them in reverse order: lora, model, manager
        }
    }
}
