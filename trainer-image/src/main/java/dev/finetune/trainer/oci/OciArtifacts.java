package dev.finetune.trainer.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.source.OciRef;
import dev.finetune.trainer.hub.FileHashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Pushes a directory of files (an adapter, a model) as one OCI artifact and pulls one back into a directory.
 * The manifest is written deterministically (files in name order, no timestamps), so pushing the same files
 * twice gives the same digest.
 */
public final class OciArtifacts {

    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, false);

    /** The artifact as pushed: the reference pinned to the manifest digest, and what it holds. */
    public record Pushed(OciRef pinned, String digest, List<String> files, long bytes) {
    }

    /** One file of a pulled artifact. */
    public record Pulled(String digest, List<Path> files) {
    }

    private final RegistryClient client;

    public OciArtifacts(RegistryClient client) {
        this.client = client;
    }

    /** Pushes the regular files directly in {@code dir} as an artifact of {@code artifactType} and tags it. */
    public Pushed push(Path dir, OciRef target, String artifactType) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(dir + " has no files to push; give an adapter directory "
                    + "(adapter_config.json + adapter_model.safetensors), e.g. a run's adapter/");
        }
        if (ArtifactLayout.ADAPTER_ARTIFACT.equals(artifactType) && files.stream().noneMatch(f ->
                f.getFileName().toString().equals("adapter_config.json"))) {
            throw new IllegalArgumentException(dir + " has no adapter_config.json: it is not a PEFT adapter directory");
        }
        String repository = target.repository();
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2).put("mediaType", ArtifactLayout.MANIFEST).put("artifactType", artifactType);
        String emptyDigest = RegistryClient.sha256(ArtifactLayout.EMPTY_CONFIG_BYTES);
        client.pushBlob(repository, emptyDigest, ArtifactLayout.EMPTY_CONFIG_BYTES);
        manifest.putObject("config").put("mediaType", ArtifactLayout.EMPTY_CONFIG).put("digest", emptyDigest)
                .put("size", ArtifactLayout.EMPTY_CONFIG_BYTES.length).put("data", "e30=");
        ArrayNode layers = manifest.putArray("layers");
        long bytes = 0;
        List<String> names = new ArrayList<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            String digest = "sha256:" + FileHashes.sha256(file);
            long size = Files.size(file);
            client.pushBlob(repository, digest, file);
            layers.addObject().put("mediaType", ArtifactLayout.mediaTypeOf(name)).put("digest", digest).put("size", size)
                    .putObject("annotations").put(ArtifactLayout.TITLE, name);
            bytes += size;
            names.add(name);
        }
        baseModelOf(dir).ifPresent(base -> manifest.putObject("annotations").put(ArtifactLayout.BASE_MODEL, base));
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        String digest = client.putManifest(repository, target.reference(), manifestBytes, ArtifactLayout.MANIFEST);
        return new Pushed(target.withDigest(digest), digest, List.copyOf(names), bytes);
    }

    /** Pulls the artifact {@code source} into {@code dir} (created), each file verified by its digest. */
    public Pulled pull(OciRef source, Path dir) throws IOException {
        return pull(source, dir, dev.finetune.trainer.hub.TransferProgress.NONE);
    }

    /** As {@link #pull(OciRef, Path)}, reporting bytes pulled of the layers' total after each file. */
    public Pulled pull(OciRef source, Path dir, dev.finetune.trainer.hub.TransferProgress progress) throws IOException {
        RegistryClient.Manifest manifest = client.getManifest(source.repository(), source.reference(), ArtifactLayout.MANIFEST);
        JsonNode root = JSON.readTree(manifest.bytes());
        JsonNode layers = root.path("layers");
        if (!layers.isArray() || layers.isEmpty()) {
            throw new RegistryException(source + " is not a file artifact: its manifest has no layers", false);
        }
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        long total = 0;
        for (JsonNode layer : layers) {
            total += layer.path("size").asLong();
        }
        long done = 0;
        progress.update(done, total);
        for (JsonNode layer : layers) {
            String title = layer.path("annotations").path(ArtifactLayout.TITLE).asText(null);
            if (title == null || title.isEmpty() || title.contains("/") || title.contains("\\") || title.equals("..")
                    || title.equals(".")) {
                throw new RegistryException(source + ": layer " + layer.path("digest").asText() + " has no plain file name in "
                        + ArtifactLayout.TITLE + " (got " + title + "); only file artifacts (ORAS layout) can be pulled", false);
            }
            Path target = dir.resolve(title);
            client.getBlob(source.repository(), layer.path("digest").asText(), target);
            written.add(target);
            done += layer.path("size").asLong();
            progress.update(done, total);
        }
        return new Pulled(manifest.digest(), List.copyOf(written));
    }

    private static java.util.Optional<String> baseModelOf(Path dir) {
        Path config = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(config)) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.ofNullable(JSON.readTree(config.toFile()).path("base_model_name_or_path").asText(null));
        } catch (IOException e) {
            throw new IllegalArgumentException(config + " is not valid JSON: " + e.getMessage());
        }
    }
}
