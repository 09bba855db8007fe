package dev.finetune.trainer.oci;

/**
 * The media types of the artifacts this project pushes and pulls, in the layout ORAS uses for files: an OCI
 * image manifest with an {@code artifactType}, the empty config, and one layer per file named by its
 * {@code org.opencontainers.image.title} annotation (so {@code oras pull} writes the same files).
 */
public final class ArtifactLayout {

    public static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /** The artifactType of a pushed PEFT adapter. */
    public static final String ADAPTER_ARTIFACT = "application/vnd.finetune.adapter.v1";
    /** The artifactType of a pushed Hugging Face model directory (output.merge, or a model packaged for oci:// sources). */
    public static final String MODEL_ARTIFACT = "application/vnd.finetune.model.v1";
    /** The OCI empty descriptor's media type, content {@code {}}. */
    public static final String EMPTY_CONFIG = "application/vnd.oci.empty.v1+json";
    public static final byte[] EMPTY_CONFIG_BYTES = {'{', '}'};
    public static final String JSON_FILE = "application/json";
    public static final String SAFETENSORS_FILE = "application/vnd.finetune.safetensors";
    public static final String OTHER_FILE = "application/octet-stream";
    public static final String TITLE = "org.opencontainers.image.title";
    /** Manifest annotation: the adapter's base model (adapter_config.json base_model_name_or_path). */
    public static final String BASE_MODEL = "dev.finetune.base-model";

    private ArtifactLayout() {
    }

    /** A file's layer media type, by its name. */
    public static String mediaTypeOf(String fileName) {
        if (fileName.endsWith(".safetensors")) {
            return SAFETENSORS_FILE;
        }
        return fileName.endsWith(".json") ? JSON_FILE : OTHER_FILE;
    }
}
