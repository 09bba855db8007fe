package dev.finetune.trainer.oci;

import dev.finetune.api.source.OciRef;
import dev.finetune.trainer.hub.CacheLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * oci:// sources in the download cache: {@code oci--REGISTRY--REPO/snapshots/sha256-HEX/} holds the pulled
 * files of one manifest (complete once renamed into place) and {@code snapshots/TAG} links to it, so the trainer
 * reads {@link OciRef#snapshotDir} whatever the tag resolves to. The repository's cache lock makes concurrent
 * jobs pull once.
 */
public final class OciCache {

    private final Path root;

    public OciCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** Pulls {@code ref} unless its manifest's snapshot is present; returns the snapshot directory for the ref. */
    public Path fetch(OciRef ref, OciArtifacts artifacts, dev.finetune.trainer.hub.TransferProgress progress) throws IOException {
        Path repoDir = root.resolve(ref.cacheDirName());
        try (CacheLock lock = CacheLock.acquire(repoDir)) {
            Path staging = repoDir.resolve("staging");
            deleteTree(staging);
            OciArtifacts.Pulled pulled = artifacts.pull(ref, staging, progress);
            Path snapshot = repoDir.resolve("snapshots").resolve(pulled.digest().replace(":", "-"));
            if (Files.exists(snapshot)) {
                deleteTree(staging);
            } else {
                Files.createDirectories(snapshot.getParent());
                Files.move(staging, snapshot, StandardCopyOption.ATOMIC_MOVE);
            }
            Path named = ref.snapshotDir(root);
            if (!named.equals(snapshot)) {
                Path tmp = named.resolveSibling(named.getFileName() + ".link-tmp");
                Files.deleteIfExists(tmp);
                Files.createSymbolicLink(tmp, snapshot.getFileName());
                Files.move(tmp, named, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return named;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
