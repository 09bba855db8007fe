package dev.finetune.api;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the repository that tests read: the committed CRD, the examples. */
public final class RepoFiles {

    private RepoFiles() {
    }

    /** The repository root: the {@code repo.root} property Maven sets, else the nearest parent with crds/. */
    public static Path root() {
        String configured = System.getProperty("repo.root");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("crds")) && Files.isDirectory(dir.resolve("examples"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the repository root (a directory with crds/ and examples/)");
    }
}
