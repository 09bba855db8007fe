package dev.finetune.trainer.oci;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Assumptions;

/**
 * CNCF Distribution's registry (built from the Go module proxy by hack/build-registry.sh) run on loopback with
 * filesystem storage in a temp dir. Found at -Dfinetune.registry.bin, else $FINETUNE_REGISTRY_BIN, else the
 * build script's cache. Tests that need it are skipped when it is absent, unless -Dfinetune.registry.required=true
 * (as .ci/run sets), which makes its absence a failure.
 */
public final class LoopbackRegistry implements AutoCloseable {

    static final Path DEFAULT_BIN = Path.of(System.getProperty("user.home"), ".cache/finetune-e2e/registry/bin/registry");

    private final Process process;
    private final int port;
    private final Path log;

    private LoopbackRegistry(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    public static Path binary() {
        String configured = System.getProperty("finetune.registry.bin", System.getenv("FINETUNE_REGISTRY_BIN"));
        Path bin = configured != null && !configured.isBlank() ? Path.of(configured) : DEFAULT_BIN;
        if (!Files.isExecutable(bin)) {
            if (Boolean.getBoolean("finetune.registry.required")) {
                throw new AssertionError("the registry binary " + bin + " is missing; build it with hack/build-registry.sh");
            }
            Assumptions.abort("no registry binary at " + bin + " (hack/build-registry.sh builds it)");
        }
        return bin;
    }

    /** Starts a registry; {@code authYaml} is an {@code auth:} section (indented two spaces) or empty. */
    public static LoopbackRegistry start(Path workDir, String authYaml) throws IOException, InterruptedException {
        Path bin = binary();
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path config = workDir.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                %s
                """.formatted(workDir.resolve("storage"), port, authYaml));
        Path log = workDir.resolve("registry.log");
        Process process = new ProcessBuilder(bin.toString(), "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        LoopbackRegistry registry = new LoopbackRegistry(process, port, log);
        registry.awaitReady();
        return registry;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the registry exited: " + Files.readString(log));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address() + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200 || r.statusCode() == 401) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        close();
        throw new IllegalStateException("the registry did not answer on " + address() + " within 30 s: " + Files.readString(log));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
