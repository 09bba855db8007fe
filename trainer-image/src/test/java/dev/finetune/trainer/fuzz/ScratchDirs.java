package dev.finetune.trainer.fuzz;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** The scratch directories a fuzz container writes its cases into, removed with everything in them afterwards. */
public final class ScratchDirs {

    private ScratchDirs() {
    }

    /** Deletes {@code dir} and everything below it, deepest first. */
    public static void delete(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
