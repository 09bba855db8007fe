package dev.finetune.api.source;

import java.nio.file.Path;

/**
 * Where a job's model or data comes from when it is not already on a volume: a Hugging Face Hub repository
 * ({@code hf://}) or an OCI artifact ({@code oci://}). The initializer downloads it into a cache directory;
 * {@link #contentDir} is where the trainer then finds it, computable without reading the cache so the
 * operator can render the trainer's config before the download has happened.
 */
public sealed interface Source permits HubRepo, OciRef {

    /** Parses a source string; {@code field} names the spec field in the error. */
    static Source parse(String uri, String field) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException(field + " is empty; write hf://ORG/NAME[@REVISION] or oci://REGISTRY/REPOSITORY[:TAG]");
        }
        if (uri.startsWith(HubRepo.SCHEME)) {
            return HubRepo.parse(uri, field);
        }
        if (uri.startsWith(OciRef.SCHEME)) {
            return OciRef.parse(uri.substring(OciRef.SCHEME.length()), field);
        }
        throw new IllegalArgumentException(field + " '" + uri + "' has an unknown scheme; write hf://ORG/NAME[@REVISION], "
                + "hf://datasets/ORG/NAME[@REVISION] or oci://REGISTRY/REPOSITORY[:TAG]");
    }

    /** The directory, under the cache root, this source's own files live in (blobs, refs, snapshots). */
    String cacheDirName();

    /** The name of the snapshot inside {@link #cacheDirName()}: the revision or tag as written. */
    String snapshotName();

    /** Where the trainer reads the downloaded content: the snapshot, or a file or directory inside it. */
    default Path contentDir(Path cacheRoot) {
        return snapshotDir(cacheRoot);
    }

    /** The snapshot directory under {@code cacheRoot}. */
    default Path snapshotDir(Path cacheRoot) {
        return cacheRoot.resolve(cacheDirName()).resolve("snapshots").resolve(snapshotName());
    }

    /** The source as written in a spec. */
    String uri();
}
