package dev.finetune.trainer.init;

import dev.finetune.api.source.HubRepo;
import dev.finetune.api.source.OciRef;
import dev.finetune.api.source.Source;
import dev.finetune.trainer.hub.HubCache;
import dev.finetune.trainer.hub.HubClient;
import dev.finetune.trainer.hub.HubDownloader;
import dev.finetune.trainer.hub.RetryPolicy;
import dev.finetune.trainer.hub.TransferProgress;
import dev.finetune.trainer.oci.OciArtifacts;
import dev.finetune.trainer.oci.OciCache;
import dev.finetune.trainer.oci.Registries;
import dev.finetune.trainer.oci.RegistryClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Fills a cache directory from one source, whatever its scheme: the job initializer's single step, run for
 * the model and for the dataset. The environment gives the hub endpoint ({@code HF_ENDPOINT}) and offline
 * mode ({@code HF_HUB_OFFLINE}); the token comes from the caller (a mounted Secret), never from arguments.
 */
public final class SourceInitializer {

    private final Map<String, String> env;
    private final RetryPolicy retry;

    public SourceInitializer(Map<String, String> env, RetryPolicy retry) {
        this.env = env;
        this.retry = retry;
    }

    /**
     * Makes {@code source} complete under {@code cacheRoot}; returns where its content is. {@code credential} is
     * the hub token for hf:// and the path of a Docker config JSON for oci:// (null: anonymous).
     */
    public Path fetch(Source source, Path cacheRoot, String credential, TransferProgress progress) {
        return switch (source) {
            case HubRepo repo -> new HubDownloader(HubClient.fromEnvironment(env, credential, retry), new HubCache(cacheRoot),
                    HubDownloader.offlineFromEnvironment(env)).fetch(repo, progress);
            case OciRef ref -> pull(ref, cacheRoot, credential, progress);
        };
    }

    /** An oci:// source; {@code dockerConfig} is the path of a Docker config JSON, or null for anonymous pulls. */
    private Path pull(OciRef ref, Path cacheRoot, String dockerConfig, TransferProgress progress) {
        try {
            RegistryClient client = Registries.client(ref, Registries.insecure(ref.registry(), env),
                    dockerConfig == null ? null : Path.of(dockerConfig));
            return new OciCache(cacheRoot).fetch(ref, new OciArtifacts(client), progress);
        } catch (IOException e) {
            throw new UncheckedIOException("cache " + cacheRoot + ": " + e.getMessage(), e);
        }
    }
}
