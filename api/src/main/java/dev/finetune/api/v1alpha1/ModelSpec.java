package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The base model: a Hugging Face model directory on a volume. */
@JsonClassDescription("The base model: a Hugging Face model directory (config.json, model.safetensors or a sharded "
        + "model.safetensors.index.json, tokenizer.json, tokenizer_config.json) on a volume. Read-only.")
public class ModelSpec {

    @Required
    @JsonPropertyDescription("Where the model directory is.")
    private PvcPath pvc;

    @Size(max = 256)
    @JsonPropertyDescription("Name recorded as base_model_name_or_path in adapter_config.json and in the manifest, "
            + "e.g. Qwen/Qwen3-0.6B. Default: the last segment of pvc.path.")
    private String name;

    public PvcPath getPvc() {
        return pvc;
    }

    public void setPvc(PvcPath pvc) {
        this.pvc = pvc;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
