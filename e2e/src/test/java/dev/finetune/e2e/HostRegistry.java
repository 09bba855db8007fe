package dev.finetune.e2e;

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
import java.util.concurrent.TimeUnit;

/**
 * CNCF Distribution's registry (the binary hack/build-registry.sh builds), run by the suite on this machine for the
 * pods, anonymous, over plain HTTP, with filesystem storage in a temporary directory. The binary:
 * {@code -De2e.registry.bin}, else {@code $FINETUNE_REGISTRY_BIN}, else the build script's cache
 * {@code ~/.cache/finetune-e2e/registry/bin/registry}.
 */
final class HostRegistry implements AutoCloseable {

    private final Process process;
    private final String address;
    private final Path log;

    private HostRegistry(Process process, String address, Path log) {
        this.process = process;
        this.address = address;
        this.log = log;
    }

    static Path binary() {
        String configured = System.getProperty("e2e.registry.bin", System.getenv("FINETUNE_REGISTRY_BIN"));
        Path bin = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache/finetune-e2e/registry/bin/registry");
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException("no registry binary at " + bin + ": build it with 'bash hack/build-registry.sh'"
                    + " (or point -De2e.registry.bin at one)");
        }
        return bin;
    }

    /** A registry listening on {@code host}, on a free port, storing under {@code workDir}. */
    static HostRegistry start(InetAddress host, Path workDir) throws IOException, InterruptedException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, host)) {
            port = socket.getLocalPort();
        }
        String address = host.getHostAddress() + ":" + port;
        Path config = workDir.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: %s
                """.formatted(workDir.resolve("storage"), address));
        Path log = workDir.resolve("registry.log");
        Process process = new ProcessBuilder(binary().toString(), "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HostRegistry registry = new HostRegistry(process, address, log);
        registry.awaitReady();
        return registry;
    }

    /** {@code HOST:PORT}, as an image or artifact reference starts. */
    String address() {
        return address;
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the registry exited: " + Files.readString(log));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        close();
        throw new IllegalStateException("the registry did not answer on " + address + " within 30 s: " + Files.readString(log));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
