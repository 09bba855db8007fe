package dev.finetune.trainer.hub;

import dev.finetune.api.source.HubRepo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Brings one hub repository revision into the cache: lists its files, downloads the missing ones (resuming
 * partial ones), verifies each against the hub's hash, links the snapshot and records the ref. Holding the
 * repository's cache lock throughout, so concurrent jobs on the same cache download each file once.
 * Offline, it only answers from the cache.
 */
public final class HubDownloader {

    private final HubClient client;
    private final HubCache cache;
    private final boolean offline;

    public HubDownloader(HubClient client, HubCache cache, boolean offline) {
        this.client = client;
        this.cache = cache;
        this.offline = offline;
    }

    /** Whether {@code HF_HUB_OFFLINE} asks for no network (huggingface_hub's convention: 1, true, yes, on). */
    public static boolean offlineFromEnvironment(java.util.Map<String, String> env) {
        return List.of("1", "true", "yes", "on").contains(env.getOrDefault("HF_HUB_OFFLINE", "").strip().toLowerCase(java.util.Locale.ROOT));
    }

    /** Makes {@code repo} complete in the cache; returns where its content is (the snapshot or the path in it). */
    public Path fetch(HubRepo repo, TransferProgress progress) {
        try {
            if (offline) {
                return fromCacheOnly(repo);
            }
            RepoSnapshot snapshot = client.snapshot(repo);
            List<RepoFile> wanted = snapshot.files().stream().filter(f -> f.isUnder(repo.pathInRepo())).toList();
            if (wanted.isEmpty()) {
                throw new HubException(HubException.Kind.NOT_FOUND, repo.uri() + ": no file at '" + repo.pathInRepo()
                        + "' in revision " + repo.revision() + " (commit " + snapshot.commit() + ")");
            }
            long total = wanted.stream().mapToLong(RepoFile::size).sum();
            try (CacheLock lock = CacheLock.acquire(cache.repoDir(repo))) {
                AtomicLong done = new AtomicLong(bytesPresent(repo, wanted));
                progress.update(done.get(), total);
                for (RepoFile file : wanted) {
                    if (!Files.exists(cache.blob(repo, file.blobName()))) {
                        downloadVerified(repo, snapshot.commit(), file, bytes -> progress.update(done.addAndGet(bytes), total));
                    }
                    cache.linkFile(repo, snapshot.commit(), file);
                }
                cache.commitRef(repo, repo.revision(), snapshot.commit());
                progress.update(total, total);
            }
            return repo.contentDir(cache.root());
        } catch (IOException e) {
            throw new UncheckedIOException("cache " + cache.root() + ": " + e.getMessage(), e);
        }
    }

    private Path fromCacheOnly(HubRepo repo) throws IOException {
        if (cache.committedRef(repo, repo.revision()).isEmpty()) {
            throw new HubException(HubException.Kind.NOT_CACHED, repo.uri() + " is not in the cache " + cache.root()
                    + " and HF_HUB_OFFLINE forbids downloading it; run the download once online, or unset HF_HUB_OFFLINE");
        }
        Path content = repo.contentDir(cache.root());
        if (!Files.exists(content)) {
            throw new HubException(HubException.Kind.NOT_CACHED, repo.uri() + ": the cached snapshot has no '"
                    + repo.pathInRepo() + "'");
        }
        return content;
    }

    private long bytesPresent(HubRepo repo, List<RepoFile> files) throws IOException {
        long present = 0;
        for (RepoFile file : files) {
            Path blob = cache.blob(repo, file.blobName());
            Path partial = cache.partial(repo, file.blobName());
            present += Files.exists(blob) ? file.size() : Files.exists(partial) ? Math.min(Files.size(partial), file.size()) : 0;
        }
        return present;
    }

    /** Downloads into the .incomplete file, checks the hash, renames into place; one fresh retry on a mismatch. */
    private void downloadVerified(HubRepo repo, String commit, RepoFile file, java.util.function.LongConsumer onBytes)
            throws IOException {
        Path partial = cache.partial(repo, file.blobName());
        Files.createDirectories(partial.getParent());
        for (int attempt = 1; ; attempt++) {
            client.download(repo, commit, file, partial, onBytes);
            if (FileHashes.matches(partial, file)) {
                Files.move(partial, cache.blob(repo, file.blobName()), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                return;
            }
            long size = Files.size(partial);
            Files.delete(partial);
            onBytes.accept(-size);
            if (attempt == 2) {
                throw new HubException(HubException.Kind.CORRUPT, file.path() + " of " + repo.uri() + " does not match its "
                        + (file.sha256() != null ? "sha256 " + file.sha256() : "git blob id " + file.gitBlobId())
                        + " after two downloads; the server or a proxy in between alters it");
            }
        }
    }
}
