package dev.finetune.trainer.init;

import dev.finetune.api.source.HubRepo;
import dev.finetune.api.source.OciRef;
import dev.finetune.api.source.Source;
import dev.finetune.trainer.hub.HubCache;
import dev.finetune.trainer.hub.HubClient;
import dev.finetune.trainer.hub.HubDownloader;
import dev.finetune.trainer.hub.RetryPolicy;
import dev.finetune.trainer.hub.TransferProgress;
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

    /** Makes {@code source} complete under {@code cacheRoot}; returns where its content is. */
    public Path fetch(Source source, Path cacheRoot, String token, TransferProgress progress) {
        return switch (source) {
            case HubRepo repo -> new HubDownloader(HubClient.fromEnvironment(env, token, retry), new HubCache(cacheRoot),
                    HubDownloader.offlineFromEnvironment(env)).fetch(repo, progress);
            case OciRef ref -> throw new UnsupportedOperationException("oci:// sources are pulled by OciPuller: " + ref);
        };
    }
}
