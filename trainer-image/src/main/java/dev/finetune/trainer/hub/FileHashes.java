package dev.finetune.trainer.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The two hashes the hub publishes: sha256 of an LFS file's content, and Git's blob id for the others. */
public final class FileHashes {

    private FileHashes() {
    }

    public static String sha256(Path file) throws IOException {
        return digest(file, "SHA-256", null);
    }

    /** Git's object id of a blob: sha1 over {@code "blob " + size + "\0"} followed by the content. */
    public static String gitBlobId(Path file) throws IOException {
        return digest(file, "SHA-1", ("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether {@code file} has the content {@code expected} describes. */
    public static boolean matches(Path file, RepoFile expected) throws IOException {
        if (expected.sha256() != null) {
            return sha256(file).equals(expected.sha256());
        }
        return gitBlobId(file).equals(expected.gitBlobId());
    }

    private static String digest(Path file, String algorithm, byte[] header) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
        if (header != null) {
            md.update(header);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
