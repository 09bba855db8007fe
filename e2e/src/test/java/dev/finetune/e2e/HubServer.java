package dev.finetune.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A Hugging Face Hub compatible server the suite runs on this machine for the pods: the revision info endpoint
 * ({@code /api/models|datasets/ORG/NAME/revision/REV}, with {@code blobs=true} metadata: LFS sha256 for files of
 * {@value #LFS_THRESHOLD} bytes and more, Git blob ids for the rest) and {@code resolve} with Range requests; file
 * bodies can go out at a set pace, so that a download lasts long enough to be watched. The trainer module's
 * FakeHub also injects faults; the suite only needs a well-behaved hub, and does not depend on the trainer module.
 */
final class HubServer implements AutoCloseable {

    static final int LFS_THRESHOLD = 1024;

    private record Repo(String commit, Map<String, byte[]> files) {
    }

    private final HttpServer server;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final List<String> served = new CopyOnWriteArrayList<>();
    private volatile int paceBytes;
    private volatile long paceMillis;

    private HubServer(InetAddress address) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    /** A hub listening on {@code address}, on a free port. */
    static HubServer start(InetAddress address) throws IOException {
        return new HubServer(address);
    }

    /** {@code http://ADDRESS:PORT}: the HF_ENDPOINT of the initializers. */
    String url() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    /** Publishes model repository {@code id} ("ORG/NAME") with branch {@code revision}. */
    void addModel(String id, String revision, Map<String, byte[]> files) {
        add("models/" + id, revision, files);
    }

    /** Publishes dataset repository {@code id} ("ORG/NAME") with branch {@code revision}. */
    void addDataset(String id, String revision, Map<String, byte[]> files) {
        add("datasets/" + id, revision, files);
    }

    private void add(String key, String revision, Map<String, byte[]> files) {
        Map<String, byte[]> copy = new LinkedHashMap<>(files);
        StringBuilder tree = new StringBuilder(key);
        copy.forEach((name, bytes) -> tree.append('\n').append(name).append(' ').append(gitBlobId(bytes)));
        String commit = hex(digest("SHA-1", tree.toString().getBytes(StandardCharsets.UTF_8)));
        Repo repo = new Repo(commit, copy);
        repos.put(key + "@" + revision, repo);
        repos.put(key + "@" + commit, repo);
    }

    /** File bodies go out {@code bytes} at a time with {@code millis} between the pieces (a slow link). */
    void pace(int bytes, long millis) {
        paceBytes = bytes;
        paceMillis = millis;
    }

    /** The files sent in full or in part, as {@code ORG/NAME/resolve/COMMIT/PATH}, in order. */
    List<String> served() {
        return List.copyOf(served);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = URLDecoder.decode(exchange.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
        try (exchange) {
            if (path.startsWith("/api/")) {
                info(exchange, path);
            } else if (path.contains("/resolve/")) {
                resolve(exchange, path);
            } else {
                status(exchange, 404, "no route");
            }
        }
    }

    private void info(HttpExchange exchange, String path) throws IOException {
        // /api/{models|datasets}/ORG/NAME/revision/REV
        String[] parts = path.substring("/api/".length()).split("/");
        Repo repo = parts.length == 5 && parts[3].equals("revision") ? repos.get(parts[0] + "/" + parts[1] + "/" + parts[2]
                + "@" + parts[4]) : null;
        if (repo == null) {
            status(exchange, 404, "Repository or revision not found");
            return;
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode().put("id", parts[1] + "/" + parts[2]).put("sha", repo.commit());
        ArrayNode siblings = root.putArray("siblings");
        repo.files().forEach((name, bytes) -> {
            ObjectNode sibling = siblings.addObject().put("rfilename", name).put("size", bytes.length)
                    .put("blobId", gitBlobId(bytes));
            if (bytes.length >= LFS_THRESHOLD) {
                sibling.putObject("lfs").put("sha256", hex(digest("SHA-256", bytes))).put("size", bytes.length);
            }
        });
        byte[] body = json.writeValueAsBytes(root);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
    }

    private void resolve(HttpExchange exchange, String path) throws IOException {
        // /[datasets/]ORG/NAME/resolve/REV/FILE...
        boolean dataset = path.startsWith("/datasets/");
        String rest = path.substring(dataset ? "/datasets/".length() : 1);
        int at = rest.indexOf("/resolve/");
        String afterResolve = rest.substring(at + "/resolve/".length());
        int slash = afterResolve.indexOf('/');
        Repo repo = slash < 0 ? null : repos.get((dataset ? "datasets/" : "models/") + rest.substring(0, at) + "@"
                + afterResolve.substring(0, slash));
        byte[] content = repo == null ? null : repo.files().get(afterResolve.substring(slash + 1));
        if (content == null) {
            status(exchange, 404, "Entry not found");
            return;
        }
        String range = exchange.getRequestHeaders().getFirst("Range");
        int from = range != null && range.matches("bytes=[0-9]+-") ? Integer.parseInt(range.substring(6, range.length() - 1)) : 0;
        if (from > 0) {
            exchange.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        served.add(rest);
        exchange.getResponseHeaders().add("ETag", "\"" + gitBlobId(content) + "\"");
        exchange.sendResponseHeaders(from > 0 ? 206 : 200, content.length - from);
        OutputStream out = exchange.getResponseBody();
        int piece = paceBytes > 0 ? paceBytes : Math.max(content.length, 1);
        for (int sent = from; sent < content.length; sent += piece) {
            if (sent > from && paceMillis > 0) {
                try {
                    Thread.sleep(paceMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            out.write(content, sent, Math.min(piece, content.length - sent));
            out.flush();
        }
    }

    private static void status(HttpExchange exchange, int code, String message) throws IOException {
        exchange.getResponseHeaders().add("X-Error-Message", message);
        exchange.sendResponseHeaders(code, -1);
    }

    /** Git's blob id: SHA-1 of "blob LENGTH\0" and the bytes (what the hub lists for files not in LFS). */
    static String gitBlobId(byte[] content) {
        byte[] header = ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[header.length + content.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(content, 0, all, header.length, content.length);
        return hex(digest("SHA-1", all));
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
