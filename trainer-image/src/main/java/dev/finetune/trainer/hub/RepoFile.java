package dev.finetune.trainer.hub;

/**
 * One file of a repository snapshot as the hub lists it: its path, size and hash. Large files are stored in
 * Git LFS and carry a sha256 of their content; small ones carry only the Git blob id (sha1 of
 * {@code "blob <size>\0" + content}). The cache names a blob by the hash it was verified against.
 */
public record RepoFile(String path, long size, String sha256, String gitBlobId) {

    public RepoFile {
        if (sha256 == null && gitBlobId == null) {
            throw new HubException(HubException.Kind.PROTOCOL, "the hub lists " + path + " without a sha256 or blob id; "
                    + "it cannot be verified (is HF_ENDPOINT a Hugging Face Hub compatible server?)");
        }
    }

    /** The cache's blob name: the LFS sha256 when there is one, else the Git blob id. */
    public String blobName() {
        return sha256 != null ? sha256 : gitBlobId;
    }

    /** Whether this file lies at or under {@code pathInRepo} ("" selects every file). */
    public boolean isUnder(String pathInRepo) {
        return pathInRepo.isEmpty() || path.equals(pathInRepo) || path.startsWith(pathInRepo + "/");
    }
}
