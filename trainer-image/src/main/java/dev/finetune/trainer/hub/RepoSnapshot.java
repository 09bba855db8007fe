package dev.finetune.trainer.hub;

import java.util.List;

/** A repository at one commit: the commit a revision resolved to, and its files. */
public record RepoSnapshot(String commit, List<RepoFile> files) {

    public long totalBytes() {
        return files.stream().mapToLong(RepoFile::size).sum();
    }
}
