package dev.finetune.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A git repository on the local disk that Argo CD syncs from (repoURL file://...), branch main. */
final class GitRepo {

    private final Path dir;

    private GitRepo(Path dir) {
        this.dir = dir;
    }

    static GitRepo init(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        GitRepo repo = new GitRepo(dir);
        repo.git("init", "-q", "-b", "main");
        return repo;
    }

    Path dir() {
        return dir;
    }

    String url() {
        return "file://" + dir.toAbsolutePath();
    }

    Path write(String path, String content) {
        try {
            Path file = dir.resolve(path);
            Files.createDirectories(file.getParent());
            return Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a directory of the checkout ({@code repo}) to the same path here. */
    void copy(Path repo, String path) {
        Path from = repo.resolve(path);
        try (var files = Files.walk(from)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                write(path + "/" + from.relativize(file), Files.readString(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void commit(String message) {
        git("add", "-A");
        git("commit", "-q", "-m", message);
    }

    private String git(String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-c", "user.name=finetune-e2e", "-c",
                "user.email=e2e@finetune.invalid", "-c", "commit.gpgsign=false"));
        command.addAll(List.of(args));
        return Processes.run(dir, Duration.ofMinutes(1), command);
    }
}
