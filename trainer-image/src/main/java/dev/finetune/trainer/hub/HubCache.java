package dev.finetune.trainer.hub;

import dev.finetune.api.source.Source;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The download cache, laid out as huggingface_hub lays out its own so its tools can read it:
 * <pre>
 * ROOT/models--ORG--NAME/blobs/HASH              content, named by the hash it was verified against
 *                       /blobs/HASH.incomplete   a download in progress (resumed from its length)
 *                       /snapshots/COMMIT/PATH   relative symlinks to blobs
 *                       /snapshots/REVISION      symlink to COMMIT when the revision is a branch or tag
 *                       /refs/REVISION           the commit, written last: a snapshot with a ref is complete
 * </pre>
 * A blob is only ever renamed into place after its hash matched, so a present blob is a verified one.
 */
public final class HubCache {

    private final Path root;

    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    Path repoDir(Source source) {
        return root.resolve(source.cacheDirName());
    }

    Path blob(Source source, String hash) {
        return repoDir(source).resolve("blobs").resolve(hash);
    }

    Path partial(Source source, String hash) {
        return repoDir(source).resolve("blobs").resolve(hash + ".incomplete");
    }

    /** The commit a complete snapshot of {@code revision} was recorded at, if any. */
    public Optional<String> committedRef(Source source, String revision) throws IOException {
        Path ref = repoDir(source).resolve("refs").resolve(revision);
        return Files.exists(ref) ? Optional.of(Files.readString(ref, StandardCharsets.UTF_8).strip()) : Optional.empty();
    }

    /** Links {@code snapshots/COMMIT/PATH} to its blob (relative, so the cache can be mounted anywhere). */
    void linkFile(Source source, String commit, RepoFile file) throws IOException {
        Path link = repoDir(source).resolve("snapshots").resolve(commit).resolve(file.path());
        Path target = link.getParent().relativize(blob(source, file.blobName()));
        Files.createDirectories(link.getParent());
        replaceWithSymlink(link, target);
    }

    /** Points {@code snapshots/REVISION} at the commit and records {@code refs/REVISION}, in that order. */
    void commitRef(Source source, String revision, String commit) throws IOException {
        if (!revision.equals(commit)) {
            replaceWithSymlink(repoDir(source).resolve("snapshots").resolve(revision), Path.of(commit));
        }
        Path ref = repoDir(source).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(revision + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void replaceWithSymlink(Path link, Path target) throws IOException {
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
            return;
        }
        Path tmp = link.resolveSibling(link.getFileName() + ".link-tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
