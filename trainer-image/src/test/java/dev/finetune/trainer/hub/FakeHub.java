package dev.finetune.trainer.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A Hugging Face Hub compatible server on loopback, for tests: the model/dataset info endpoint with
 * {@code blobs=true} metadata (LFS sha256 for files at or above {@link #LFS_THRESHOLD} bytes, Git blob ids for
 * the rest), the {@code resolve} endpoint with Range support, an optional required token, and faults queued
 * per file: HTTP statuses (with Retry-After), transfers cut off after some bytes, altered content.
 */
public final class FakeHub implements AutoCloseable {

    static final int LFS_THRESHOLD = 1024;

    /** One request as the server saw it. */
    public record Seen(String path, String range, String authorization, int status) {
    }

    private sealed interface Fault permits Status, Cut, Corrupt {
    }

    private record Status(int code, String retryAfter) implements Fault {
    }

    private record Cut(int afterBytes) implements Fault {
    }

    private record Corrupt() implements Fault {
    }

    private record Repo(String commit, Map<String, byte[]> files) {
    }

    private final HttpServer server;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, Queue<Fault>> faults = new ConcurrentHashMap<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private volatile String requiredToken;
    private volatile int paceBytes;
    private volatile long paceMillis;

    private FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    public static FakeHub start() throws IOException {
        return new FakeHub();
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Publishes a model repository; {@code revision} (a branch) points at the returned commit. */
    public String addModel(String id, String revision, Map<String, byte[]> files) {
        return add("models/" + id, revision, files);
    }

    public String addDataset(String id, String revision, Map<String, byte[]> files) {
        return add("datasets/" + id, revision, files);
    }

    private String add(String key, String revision, Map<String, byte[]> files) {
        String commit = hex(digest("SHA-1", (key + "@" + revision + files.keySet()).getBytes(StandardCharsets.UTF_8)));
        Repo repo = new Repo(commit, new LinkedHashMap<>(files));
        repos.put(key + "@" + revision, repo);
        repos.put(key + "@" + commit, repo);
        return commit;
    }

    /**
     * A slow link: file bodies go out {@code bytes} at a time with {@code millis} between the pieces, so a client's
     * progress can be seen mid-transfer.
     */
    public void pace(int bytes, long millis) {
        paceBytes = bytes;
        paceMillis = millis;
    }

    public void requireToken(String token) {
        requiredToken = token;
    }

    /** The next {@code times} requests for {@code file} answer {@code status}. */
    public void failWith(String file, int status, String retryAfter, int times) {
        for (int i = 0; i < times; i++) {
            queue(file).add(new Status(status, retryAfter));
        }
    }

    /** The next request for {@code file} sends {@code bytes} bytes of its body and drops the connection. */
    public void cutAfter(String file, int bytes) {
        queue(file).add(new Cut(bytes));
    }

    /** The next {@code times} requests for {@code file} send altered bytes. */
    public void corrupt(String file, int times) {
        for (int i = 0; i < times; i++) {
            queue(file).add(new Corrupt());
        }
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** Bodies sent (fully or partly) for {@code file}. */
    public long transfersOf(String file) {
        return seen.stream().filter(s -> s.path().endsWith("/" + file) && s.path().contains("/resolve/")
                && (s.status() == 200 || s.status() == 206)).count();
    }

    private Queue<Fault> queue(String file) {
        return faults.computeIfAbsent(file, f -> new ArrayDeque<>());
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = URLDecoder.decode(exchange.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
        String range = exchange.getRequestHeaders().getFirst("Range");
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        try (exchange) {
            if (requiredToken != null && !("Bearer " + requiredToken).equals(auth)) {
                respond(exchange, path, range, auth, 401, "Invalid credentials", null);
                return;
            }
            if (path.startsWith("/api/")) {
                info(exchange, path, range, auth);
            } else if (path.contains("/resolve/")) {
                resolve(exchange, path, range, auth);
            } else {
                respond(exchange, path, range, auth, 404, "no route", null);
            }
        }
    }

    private void info(HttpExchange exchange, String path, String range, String auth) throws IOException {
        // /api/{models|datasets}/ORG/NAME/revision/REV
        String[] parts = path.substring("/api/".length()).split("/");
        if (parts.length != 5 || !parts[3].equals("revision")) {
            respond(exchange, path, range, auth, 404, "no route", null);
            return;
        }
        Repo repo = repos.get(parts[0] + "/" + parts[1] + "/" + parts[2] + "@" + parts[4]);
        if (repo == null) {
            respond(exchange, path, range, auth, 404, "Repository or revision not found", null);
            return;
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode().put("id", parts[1] + "/" + parts[2]).put("sha", repo.commit());
        ArrayNode siblings = root.putArray("siblings");
        repo.files().forEach((name, bytes) -> {
            ObjectNode sibling = siblings.addObject().put("rfilename", name).put("size", bytes.length)
                    .put("blobId", gitBlobId(bytes));
            if (bytes.length >= LFS_THRESHOLD) {
                sibling.putObject("lfs").put("sha256", hex(digest("SHA-256", bytes))).put("size", bytes.length)
                        .put("pointerSize", 134);
            }
        });
        byte[] body = json.writeValueAsBytes(root);
        seen.add(new Seen(path, range, auth, 200));
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
    }

    private void resolve(HttpExchange exchange, String path, String range, String auth) throws IOException {
        // /[datasets/]ORG/NAME/resolve/REV/FILE...
        boolean dataset = path.startsWith("/datasets/");
        String rest = path.substring(dataset ? "/datasets/".length() : 1);
        int at = rest.indexOf("/resolve/");
        String id = rest.substring(0, at);
        String afterResolve = rest.substring(at + "/resolve/".length());
        int slash = afterResolve.indexOf('/');
        String revision = afterResolve.substring(0, slash);
        String file = afterResolve.substring(slash + 1);
        Repo repo = repos.get((dataset ? "datasets/" : "models/") + id + "@" + revision);
        byte[] content = repo == null ? null : repo.files().get(file);
        if (content == null) {
            respond(exchange, path, range, auth, 404, "Entry not found", null);
            return;
        }
        Fault fault = queue(file).poll();
        if (fault instanceof Status s) {
            respond(exchange, path, range, auth, s.code(), "injected", s.retryAfter());
            return;
        }
        int from = 0;
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
        }
        byte[] body = java.util.Arrays.copyOfRange(content, from, content.length);
        if (fault instanceof Corrupt && body.length > 0) {
            body[body.length / 2] ^= 0x5a;
        }
        int status = from > 0 ? 206 : 200;
        seen.add(new Seen(path, range, auth, status));
        if (status == 206) {
            exchange.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        exchange.getResponseHeaders().add("ETag", "\"" + gitBlobId(content) + "\"");
        exchange.sendResponseHeaders(status, body.length);
        OutputStream out = exchange.getResponseBody();
        if (fault instanceof Cut c) {
            out.write(body, 0, Math.min(c.afterBytes(), body.length));
            out.flush();
            // the server drops the connection: the client sees fewer bytes than Content-Length
            throw new IOException("cut off by the test");
        }
        int piece = paceBytes > 0 ? paceBytes : Math.max(body.length, 1);
        for (int sent = 0; sent < body.length; sent += piece) {
            if (sent > 0 && paceMillis > 0) {
                pause(paceMillis);
            }
            out.write(body, sent, Math.min(piece, body.length - sent));
            out.flush();
        }
    }

    private static void pause(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void respond(HttpExchange exchange, String path, String range, String auth, int status, String message,
            String retryAfter) throws IOException {
        seen.add(new Seen(path, range, auth, status));
        exchange.getResponseHeaders().add("X-Error-Message", message);
        if (retryAfter != null) {
            exchange.getResponseHeaders().add("Retry-After", retryAfter);
        }
        exchange.sendResponseHeaders(status, -1);
    }

    public static String gitBlobId(byte[] content) {
        byte[] header = ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + content.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(content, 0, all, header.length, content.length);
        return hex(digest("SHA-1", all));
    }

    public static String sha256(byte[] content) {
        return hex(digest("SHA-256", content));
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
