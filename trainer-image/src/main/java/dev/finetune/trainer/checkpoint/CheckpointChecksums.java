package dev.finetune.trainer.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory's SHA-256 manifest in {@code sha256sum} format: one line {@code <64 hex digits>  <relative path>}
 * per file, sorted by path. Written last and renamed into place, so it exists only when every file it names
 * was complete.
 */
final class CheckpointChecksums {

    private static final Pattern LINE = Pattern.compile("([0-9a-f]{64})  (.+)");

    private CheckpointChecksums() {}

    /** Writes the manifest of every file under {@code dir} (the manifest itself aside) as {@code dir/name}. */
    static void write(Path dir, String name) throws IOException {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                String relative = dir.relativize(file).toString().replace('\\', '/');
                if (!relative.equals(name) && !relative.startsWith(".")) {
                    text.append(sha256(file)).append("  ").append(relative).append('\n');
                }
            }
        }
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The first file that does not match the manifest {@code dir/name}, in words; empty when all match. */
    static Optional<String> verify(Path dir, String name) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.of(name + " cannot be read: " + e.getMessage());
        }
        if (lines.isEmpty()) {
            return Optional.of(name + " is empty");
        }
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = LINE.matcher(lines.get(i));
            if (!m.matches()) {
                return Optional.of(name + " line " + (i + 1) + " is not '<SHA-256>  <file>'");
            }
            Path file = dir.resolve(m.group(2)).normalize();
            if (!file.startsWith(dir)) {
                return Optional.of(name + " line " + (i + 1) + " names a file outside the checkpoint: " + m.group(2));
            }
            if (!Files.isRegularFile(file)) {
                return Optional.of(m.group(2) + " is missing");
            }
            String actual;
            try {
                actual = sha256(file);
            } catch (UncheckedIOException e) {
                return Optional.of(m.group(2) + " cannot be read: " + e.getCause().getMessage());
            }
            if (!actual.equals(m.group(1))) {
                long size;
                try {
                    size = Files.size(file);
                } catch (IOException e) {
                    size = -1;
                }
                return Optional.of(String.format(Locale.ROOT, "%s (%,d bytes) does not match its SHA-256 in %s "
                        + "(truncated or overwritten since it was written)", m.group(2), size, name));
            }
        }
        return Optional.empty();
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
