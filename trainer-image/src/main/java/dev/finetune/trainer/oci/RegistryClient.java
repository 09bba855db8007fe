package dev.finetune.trainer.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.hub.FileHashes;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of the OCI distribution API an artifact push and pull needs: blob existence, monolithic blob
 * upload (POST then PUT ?digest=), manifest put and get, blob download, each verified by its sha256. On a 401
 * it follows the registry's challenge: Basic with the Docker config's credentials, or Bearer with a token
 * fetched from the realm the registry names (anonymously when there are no credentials).
 */
public final class RegistryClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final String registry;
    private final URI base;
    private final RegistryCredentials credentials;
    private final HttpClient http;
    private volatile String authorization;

    /** A manifest as the registry stored it: its bytes, media type and digest. */
    public record Manifest(byte[] bytes, String mediaType, String digest) {
    }

    public RegistryClient(String registry, boolean insecure, RegistryCredentials credentials) {
        this.registry = registry;
        this.base = URI.create((insecure ? "http://" : "https://") + registry);
        this.credentials = credentials;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    public boolean hasBlob(String repository, String digest) {
        HttpResponse<Void> response = send(() -> request("/v2/" + repository + "/blobs/" + digest)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()), HttpResponse.BodyHandlers.discarding(), repository);
        if (response.statusCode() == 200) {
            return true;
        }
        if (response.statusCode() == 404) {
            return false;
        }
        throw failure(response.statusCode(), "checking blob " + digest + " in " + repository, null);
    }

    /** Uploads {@code content} (a file) as blob {@code digest} unless the repository has it already. */
    public void pushBlob(String repository, String digest, Path content) {
        if (hasBlob(repository, digest)) {
            return;
        }
        pushBlob(repository, digest, () -> {
            try {
                return HttpRequest.BodyPublishers.ofFile(content);
            } catch (java.io.FileNotFoundException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** Uploads small {@code content} as blob {@code digest} unless present. */
    public void pushBlob(String repository, String digest, byte[] content) {
        if (!hasBlob(repository, digest)) {
            pushBlob(repository, digest, () -> HttpRequest.BodyPublishers.ofByteArray(content));
        }
    }

    private void pushBlob(String repository, String digest, Supplier<HttpRequest.BodyPublisher> body) {
        HttpResponse<String> start = send(() -> request("/v2/" + repository + "/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()), HttpResponse.BodyHandlers.ofString(), repository);
        if (start.statusCode() != 202) {
            throw failure(start.statusCode(), "starting the upload of " + digest + " to " + repository, start.body());
        }
        String location = start.headers().firstValue("Location").orElseThrow(() -> new RegistryException(registry
                + " answered the upload of " + digest + " without a Location header", false));
        URI upload = base.resolve(location);
        String separator = upload.getRawQuery() == null ? "?" : "&";
        URI put = URI.create(upload + separator + "digest=" + URLEncoder.encode(digest, StandardCharsets.UTF_8));
        HttpResponse<String> done = send(() -> authorized(HttpRequest.newBuilder(put))
                .header("Content-Type", "application/octet-stream").PUT(body.get()), HttpResponse.BodyHandlers.ofString(), repository);
        if (done.statusCode() != 201) {
            throw failure(done.statusCode(), "uploading " + digest + " to " + repository, done.body());
        }
    }

    /** Stores a manifest under {@code reference} (a tag); returns its digest. */
    public String putManifest(String repository, String reference, byte[] manifest, String mediaType) {
        String digest = sha256(manifest);
        HttpResponse<String> response = send(() -> request("/v2/" + repository + "/manifests/" + reference)
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)),
                HttpResponse.BodyHandlers.ofString(), repository);
        if (response.statusCode() != 201) {
            throw failure(response.statusCode(), "pushing the manifest " + repository + ":" + reference, response.body());
        }
        String stored = response.headers().firstValue("Docker-Content-Digest").orElse(digest);
        if (!stored.equals(digest)) {
            throw new RegistryException(registry + " stored the manifest of " + repository + ":" + reference + " as " + stored
                    + ", not as the pushed bytes' " + digest, false);
        }
        return digest;
    }

    /** Fetches a manifest by tag or digest; a digest reference is checked against the bytes. */
    public Manifest getManifest(String repository, String reference, String... acceptedMediaTypes) {
        HttpResponse<byte[]> response = send(() -> request("/v2/" + repository + "/manifests/" + reference)
                .header("Accept", String.join(", ", acceptedMediaTypes)).GET(), HttpResponse.BodyHandlers.ofByteArray(), repository);
        if (response.statusCode() != 200) {
            throw failure(response.statusCode(), "fetching " + repository + (reference.startsWith("sha256:") ? "@" : ":")
                    + reference, new String(response.body(), StandardCharsets.UTF_8));
        }
        String digest = sha256(response.body());
        if (reference.startsWith("sha256:") && !reference.equals(digest)) {
            throw new RegistryException(repository + "@" + reference + ": the registry sent a manifest whose digest is " + digest,
                    false);
        }
        String mediaType = response.headers().firstValue("Content-Type").orElse("");
        return new Manifest(response.body(), mediaType, digest);
    }

    /** Downloads blob {@code digest} to {@code target}, verified; nothing is left at {@code target} on a mismatch. */
    public void getBlob(String repository, String digest, Path target) throws IOException {
        HttpResponse<InputStream> response = send(() -> request("/v2/" + repository + "/blobs/" + digest).GET(),
                HttpResponse.BodyHandlers.ofInputStream(), repository);
        Path partial = target.resolveSibling(target.getFileName() + ".incomplete");
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                throw failure(response.statusCode(), "fetching blob " + digest + " of " + repository, null);
            }
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
        }
        String actual = "sha256:" + FileHashes.sha256(partial);
        if (!actual.equals(digest)) {
            Files.delete(partial);
            throw new RegistryException("blob " + digest + " of " + repository + " arrived with digest " + actual, false);
        }
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private HttpRequest.Builder request(String path) {
        return authorized(HttpRequest.newBuilder(base.resolve(path)));
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder builder) {
        builder.timeout(Duration.ofMinutes(30)).header("User-Agent", "finetune-oci/0.1");
        String auth = authorization;
        if (auth != null) {
            builder.header("Authorization", auth);
        }
        return builder;
    }

    private <T> HttpResponse<T> send(Supplier<HttpRequest.Builder> request, HttpResponse.BodyHandler<T> handler,
            String repository) {
        try {
            HttpResponse<T> response = http.send(request.get().build(), handler);
            if (response.statusCode() == 401 && authenticate(response, repository)) {
                if (response.body() instanceof InputStream in) {
                    in.close();
                }
                response = http.send(request.get().build(), handler);
            }
            return response;
        } catch (IOException e) {
            throw new RegistryException("cannot reach the registry " + base + ": " + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while talking to " + base, true, e);
        }
    }

    /** Follows a 401's challenge; false when there is nothing new to try. */
    private boolean authenticate(HttpResponse<?> response, String repository) throws IOException, InterruptedException {
        String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            if (credentials == null || credentials.basic().equals(authorization)) {
                return false;
            }
            authorization = credentials.basic();
            return true;
        }
        if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            return false;
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null) {
            return false;
        }
        String scope = params.getOrDefault("scope", "repository:" + repository + ":pull,push");
        StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?")
                .append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        if (params.containsKey("service")) {
            url.append("&service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        HttpRequest.Builder tokenRequest = HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofMinutes(1)).GET();
        if (credentials != null) {
            tokenRequest.header("Authorization", credentials.basic());
        }
        HttpResponse<byte[]> tokenResponse = http.send(tokenRequest.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (tokenResponse.statusCode() != 200) {
            return false;
        }
        JsonNode token = JSON.readTree(tokenResponse.body());
        String value = token.hasNonNull("token") ? token.get("token").asText() : token.path("access_token").asText(null);
        if (value == null || ("Bearer " + value).equals(authorization)) {
            return false;
        }
        authorization = "Bearer " + value;
        return true;
    }

    private RegistryException failure(int status, String what, String body) {
        String detail = body == null || body.isBlank() ? "" : " (" + abbreviate(body.strip()) + ")";
        return switch (status) {
            case 401, 403 -> new RegistryException(registry + ": " + what + ": HTTP " + status + detail + (credentials == null
                    ? "; the registry needs credentials: name a Docker config Secret in credentialsSecret (locally --docker-config)"
                    : "; the credentials were refused: check the user, password or token and its rights on the repository"), false);
            case 404 -> new RegistryException(registry + ": " + what + ": not found (HTTP 404)" + detail
                    + "; check the repository and tag", false);
            default -> new RegistryException(registry + ": " + what + ": HTTP " + status + detail, status >= 500 || status == 429);
        };
    }

    private static String abbreviate(String text) {
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "RegistryClient[" + base + (credentials != null ? ", credentials for " + credentials.username() : "") + "]";
    }
}
