package dev.finetune.trainer.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.source.HubRepo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A client for the two Hugging Face Hub endpoints a download needs: the repository's file list at a revision
 * ({@code GET /api/models/ORG/NAME/revision/REV?blobs=true}, with LFS sha256 and Git blob ids) and the file
 * itself ({@code GET /ORG/NAME/resolve/COMMIT/PATH}, resumed with {@code Range}). The token, when there is one,
 * goes only into the Authorization header; no message or log line contains it.
 */
public final class HubClient {

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** Environment variable that points the client at a mirror or a private hub, as huggingface_hub reads it. */
    public static final String ENDPOINT_ENV = "HF_ENDPOINT";
    public static final String TOKEN_ENV = "HF_TOKEN";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final String token;
    private final RetryPolicy retry;
    private final HttpClient http;

    public HubClient(URI endpoint, String token, RetryPolicy retry) {
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.retry = retry;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    /** A client for {@code HF_ENDPOINT} (default the public hub) with the given token (may be null). */
    public static HubClient fromEnvironment(Map<String, String> env, String token, RetryPolicy retry) {
        String endpoint = env.getOrDefault(ENDPOINT_ENV, "");
        return new HubClient(URI.create(endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint.strip()), token, retry);
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The commit {@code repo}'s revision points at and the files there. */
    public RepoSnapshot snapshot(HubRepo repo) {
        URI uri = URI.create(endpoint + "/api/" + repo.type().apiPath() + "/" + repo.id() + "/revision/"
                + encode(repo.revision()) + "?blobs=true");
        String what = repo.uri();
        for (int attempt = 1; ; attempt++) {
            HttpResponse<byte[]> response;
            try {
                response = http.send(request(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                retryOrFail(attempt, null, HubException.Kind.UNAVAILABLE, "cannot reach " + endpoint + " for " + what
                        + ": " + e.getMessage());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.UNAVAILABLE, "interrupted while listing " + what, e);
            }
            if (response.statusCode() == 200) {
                return parseSnapshot(response.body(), what);
            }
            failOrRetry(attempt, response, what);
        }
    }

    /**
     * Appends the rest of {@code file} to {@code partial} (resuming from its current length with a Range request),
     * reporting each chunk's length to {@code onBytes}. Returns when the file has {@code file.size()} bytes;
     * hashing is the caller's. A transfer that is cut off is resumed; attempts count only failures that made
     * no progress.
     */
    public void download(HubRepo repo, String commit, RepoFile file, Path partial, LongConsumer onBytes) {
        URI uri = URI.create(endpoint + "/" + repo.type().resolvePrefix() + repo.id() + "/resolve/" + commit + "/"
                + encodePath(file.path()));
        String what = file.path() + " of " + repo.uri();
        int failuresWithoutProgress = 0;
        while (true) {
            long have = sizeOf(partial);
            if (have > file.size()) {
                deleteQuietly(partial);
                have = 0;
            }
            if (have == file.size()) {
                return;
            }
            HttpRequest.Builder request = request(uri).GET();
            if (have > 0) {
                request.header("Range", "bytes=" + have + "-");
            }
            long before = have;
            try {
                HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
                int status = response.statusCode();
                if (status == 200 || status == 206) {
                    boolean append = status == 206 && have > 0;
                    if (!append && have > 0) {
                        onBytes.accept(-have);
                        have = 0;
                    }
                    have = copy(response.body(), partial, append, have, file.size(), onBytes);
                    if (have == file.size()) {
                        return;
                    }
                } else {
                    try (InputStream ignored = response.body()) {
                        failuresWithoutProgress++;
                        failOrRetry(failuresWithoutProgress, response, what);
                        continue;
                    }
                }
            } catch (IOException e) {
                have = sizeOf(partial);
                if (have > before) {
                    failuresWithoutProgress = 0;
                    continue;
                }
                failuresWithoutProgress++;
                retryOrFail(failuresWithoutProgress, null, HubException.Kind.UNAVAILABLE, "transfer of " + what
                        + " failed at byte " + have + " of " + file.size() + ": " + e.getMessage());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.UNAVAILABLE, "interrupted while downloading " + what, e);
            }
            if (have > before) {
                failuresWithoutProgress = 0;
            } else {
                failuresWithoutProgress++;
                retryOrFail(failuresWithoutProgress, null, HubException.Kind.UNAVAILABLE, "transfer of " + what
                        + " ended at byte " + have + " of " + file.size() + " without progress");
            }
        }
    }

    private static long copy(InputStream body, Path partial, boolean append, long have, long expected,
            LongConsumer onBytes) throws IOException {
        long written = have;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = body;
                OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                if (written + n > expected) {
                    throw new HubException(HubException.Kind.CORRUPT, partial.getFileName() + ": the server sent more than the "
                            + expected + " bytes the hub listed");
                }
                out.write(buffer, 0, n);
                written += n;
                onBytes.accept(n);
            }
        }
        return written;
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10))
                .header("User-Agent", "finetune-initializer/0.1");
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private void failOrRetry(int attempt, HttpResponse<?> response, String what) {
        int status = response.statusCode();
        String serverSays = response.headers().firstValue("X-Error-Message").map(m -> " (hub: " + m + ")").orElse("");
        switch (status) {
            case 401, 403 -> throw new HubException(HubException.Kind.UNAUTHORIZED, what + ": HTTP " + status + serverSays
                    + (token == null ? "; the repository needs a token: put it in a Secret and name it in tokenSecret "
                            + "(or set " + TOKEN_ENV + " locally)"
                            : "; the token was refused: check it is valid and its account may read this (gated) repository"));
            case 404 -> throw new HubException(HubException.Kind.NOT_FOUND, what + ": HTTP 404" + serverSays
                    + "; check the repository name and revision" + (token == null ? " (a private repository also needs a token)" : ""));
            case 429 -> retryOrFail(attempt, retryAfter(response), HubException.Kind.RATE_LIMITED, what
                    + ": HTTP 429 rate limited" + serverSays + "; try later or use a token (higher limits)");
            default -> {
                if (status >= 500) {
                    retryOrFail(attempt, retryAfter(response), HubException.Kind.UNAVAILABLE, what + ": HTTP " + status
                            + serverSays + " from " + endpoint);
                } else {
                    throw new HubException(HubException.Kind.PROTOCOL, what + ": unexpected HTTP " + status + serverSays);
                }
            }
        }
    }

    private void retryOrFail(int attempt, Long retryAfterSeconds, HubException.Kind kind, String message) {
        if (attempt >= retry.attempts()) {
            throw new HubException(kind, message + " (gave up after " + attempt + " attempts)");
        }
        retry.pause(attempt, retryAfterSeconds);
    }

    private static Long retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(v -> {
            try {
                return Math.max(0L, Long.parseLong(v.strip()));
            } catch (NumberFormatException e) {
                return null;
            }
        }).orElse(null);
    }

    private static RepoSnapshot parseSnapshot(byte[] body, String what) {
        try {
            JsonNode root = JSON.readTree(body);
            String commit = root.path("sha").asText(null);
            if (commit == null || !root.path("siblings").isArray()) {
                throw new HubException(HubException.Kind.PROTOCOL, "the hub's answer for " + what
                        + " has no sha or siblings; is " + ENDPOINT_ENV + " a Hugging Face Hub compatible server?");
            }
            List<RepoFile> files = new ArrayList<>();
            for (JsonNode sibling : root.path("siblings")) {
                JsonNode lfs = sibling.path("lfs");
                String path = sibling.path("rfilename").asText();
                long size = lfs.isObject() ? lfs.path("size").asLong(sibling.path("size").asLong(-1)) : sibling.path("size").asLong(-1);
                if (size < 0) {
                    throw new HubException(HubException.Kind.PROTOCOL, "the hub lists " + path + " of " + what
                            + " without a size (the client asks with blobs=true)");
                }
                files.add(new RepoFile(path, size, lfs.isObject() ? lfs.path("sha256").asText(null) : null,
                        sibling.path("blobId").asText(null)));
            }
            return new RepoSnapshot(commit, List.copyOf(files));
        } catch (IOException e) {
            throw new HubException(HubException.Kind.PROTOCOL, "the hub's answer for " + what + " is not JSON: "
                    + e.getMessage(), e);
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the next write truncates it anyway
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("/")) {
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(encode(segment));
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "HubClient[" + endpoint + (token != null ? ", token set" : "") + "]";
    }
}
