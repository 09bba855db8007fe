package dev.finetune.trainer.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --volume CLAIM=DIR} options of a command, as PVC claimName → local directory. Rules: each names a claim
 * and a directory; a claim is mapped once (a second mapping would silently replace the first); a directory written
 * {@code ~} or {@code ~/...} is in the home directory, as bash would have expanded it (zsh and sh leave the
 * {@code ~} of {@code models=~/models} alone, and a literal {@code ~} directory is never what was meant).
 */
final class VolumeMappings {

    private VolumeMappings() {
    }

    static Map<String, Path> parse(List<String> options) {
        return parse(options, home(System.getenv("HOME")));
    }

    /** The directory the shell's {@code ~} stands for: HOME, else (HOME unset) the account's, as Java knows it. */
    static Path home(String homeVariable) {
        return Path.of(homeVariable == null || homeVariable.isBlank() ? System.getProperty("user.home") : homeVariable);
    }

    static Map<String, Path> parse(List<String> options, Path home) {
        Map<String, Path> volumes = new LinkedHashMap<>();
        Map<String, String> given = new LinkedHashMap<>();
        for (String option : options) {
            int eq = option.indexOf('=');
            if (eq < 0) {
                throw CliException.usage("--volume " + option + ": expected CLAIM=DIR", "map each PVC claimName of the "
                        + "job to a local directory, e.g. --volume " + (option.isBlank() ? "models" : option) + "=/path/to/dir");
            }
            String claim = option.substring(0, eq).strip();
            String dir = option.substring(eq + 1).strip();
            if (claim.isEmpty()) {
                throw CliException.usage("--volume " + option + ": the claim name before '=' is empty",
                        "write the job's claimName first, e.g. --volume models=" + dir);
            }
            if (dir.isEmpty()) {
                throw CliException.usage("--volume " + option + ": the directory after '=' is empty",
                        "give the local directory that holds claim " + claim + ", e.g. --volume " + claim + "=/path/to/dir");
            }
            Path path = expandHome(dir, home);
            Path earlier = volumes.putIfAbsent(claim, path);
            if (earlier != null && !earlier.equals(path)) {
                throw CliException.usage("--volume " + claim + " is given twice (" + given.get(claim) + " and " + option + ")",
                        "map each claim to one directory");
            }
            given.putIfAbsent(claim, option);
        }
        return volumes;
    }

    private static Path expandHome(String dir, Path home) {
        if (dir.equals("~")) {
            return home;
        }
        if (dir.startsWith("~/")) {
            return home.resolve(dir.substring(2));
        }
        return Path.of(dir);
    }
}
