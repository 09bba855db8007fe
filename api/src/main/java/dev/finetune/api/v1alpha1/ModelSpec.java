package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The base model: a Hugging Face model directory on a volume, or downloaded there from a hub or registry. */
@JsonClassDescription("The base model: a Hugging Face model directory (config.json, model.safetensors or a sharded "
        + "model.safetensors.index.json, tokenizer.json, tokenizer_config.json) on a volume; or, with source, downloaded "
        + "into a cache directory on that volume by the job's initializer before training.")
@ValidationRule(value = "!has(self.source) || self.source.matches('" + ModelSpec.HF_MODEL_RULE + "') "
        + "|| self.source.matches('" + ModelSpec.OCI_RULE + "')",
        message = "model.source must be hf://ORG/NAME[@REVISION] (a Hugging Face model repository) or "
                + "oci://REGISTRY/REPOSITORY[:TAG or @sha256:DIGEST] (an OCI model artifact)")
@ValidationRule(value = "!has(self.source) || !self.source.startsWith('hf://datasets/')",
        message = "model.source names a dataset repository (hf://datasets/...); use dataset.source for data")
@ValidationRule(value = "!has(self.tokenSecret) || has(self.source)",
        message = "model.tokenSecret is only used to download model.source; set model.source or remove the secret")
public class ModelSpec {

    /** CEL (RE2) form of an hf:// model source; the trainer parses the same shape in dev.finetune.api.source. */
    static final String HF_MODEL_RULE = "^hf://[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*(@[-A-Za-z0-9_.]+)?$";
    /** CEL (RE2) form of an oci:// source. */
    static final String OCI_RULE = "^oci://[a-zA-Z0-9][-a-zA-Z0-9.]*(:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*"
            + "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})?$";

    @Required
    @JsonPropertyDescription("Where the model directory is. With source: the volume and directory of the download cache "
            + "(content-addressed, shared by every job that names the same directory); mounted read-write by the "
            + "initializer only.")
    private PvcPath pvc;

    @Size(max = 512)
    @JsonPropertyDescription("Download the model before training: hf://ORG/NAME[@REVISION] from the Hugging Face Hub "
            + "(or the endpoint in the operator's HF_ENDPOINT), revision default main; or oci://REGISTRY/REPOSITORY[:TAG] "
            + "for a model packaged as an OCI artifact. Every file is checked against its sha256.")
    private String source;

    @JsonPropertyDescription("Secret with the hub token (key `token`) or registry credentials (key `.dockerconfigjson`) "
            + "for source. Default: anonymous.")
    private SecretKeyRef tokenSecret;

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

    public String getSource() {
        return source;
    }

    public void setSource(String source) {
        this.source = source;
    }

    public SecretKeyRef getTokenSecret() {
        return tokenSecret;
    }

    public void setTokenSecret(SecretKeyRef tokenSecret) {
        this.tokenSecret = tokenSecret;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
