package dev.finetune.trainer.progress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * In-cluster progress: a JSON merge-patch of one key of a ConfigMap, with the pod's ServiceAccount
 * token, over plain {@code java.net.http} (no Kubernetes client in the trainer). The operator watches
 * the ConfigMap. Failures are reported on stderr and do not stop training.
 *
 * <p>Reports are sent by one background thread, newest first: {@link #publish} only hands the report over, and a
 * report that arrives while one is in flight replaces any still waiting (each report is complete, see
 * {@link ProgressSink}). So training never waits for the API server, and the connect timeout can be generous: on
 * a real cluster a worker with a small CPU limit needed more than 5 s for its first TLS connection while the JVM
 * was still warming up, and its first reports were lost. {@link #close} sends what is still waiting, so the final
 * report (SUCCEEDED or FAILED) is written before the process exits.
 */
public final class ConfigMapProgressSink implements ProgressSink {

    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /** How long {@link #close} waits for the last report to go out (connect + request, with room to spare). */
    static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(45);

    private final HttpClient http;
    private final URI uri;
    private final String token;
    private final String key;
    private final Object lock = new Object();
    private ProgressReport waiting;
    private boolean closed;
    private final Thread sender;

    ConfigMapProgressSink(HttpClient http, URI apiServer, String token, String namespace, String configMap, String key) {
        this.http = http;
        this.uri = apiServer.resolve("/api/v1/namespaces/" + namespace + "/configmaps/" + configMap);
        this.token = token;
        this.key = key;
        this.sender = Thread.ofPlatform().daemon().name("progress-configmap").start(this::sendLoop);
    }

    /** Uses KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA. */
    public static ConfigMapProgressSink inCluster(String namespace, String configMap, String key) throws IOException {
        String host = System.getenv("KUBERNETES_SERVICE_HOST");
        String port = System.getenv().getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        if (host == null) {
            throw new IOException("KUBERNETES_SERVICE_HOST is not set: not running in a pod");
        }
        String token = Files.readString(SERVICE_ACCOUNT.resolve("token")).trim();
        HttpClient client = HttpClient.newBuilder()
                .sslContext(trusting(SERVICE_ACCOUNT.resolve("ca.crt")))
                .connectTimeout(Duration.ofSeconds(20))
                .build();
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        return new ConfigMapProgressSink(client, URI.create("https://" + hostPart + ":" + port), token, namespace,
                configMap, key);
    }

    /** For tests: any base URI (e.g. a local plain-HTTP server). */
    public static ConfigMapProgressSink at(URI apiServer, String token, String namespace, String configMap, String key) {
        return new ConfigMapProgressSink(HttpClient.newHttpClient(), apiServer, token, namespace, configMap, key);
    }

    private static SSLContext trusting(Path caFile) throws IOException {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, cert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot use " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** The merge-patch body: {@code {"data": {key: <report JSON>}}}. */
    String body(ProgressReport report) {
        ObjectNode patch = TrainerJson.json().createObjectNode();
        patch.putObject("data").put(key, TrainerJson.write(report));
        return patch.toString();
    }

    /** Hands the report to the sender thread and returns at once. */
    @Override
    public void publish(ProgressReport report) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            waiting = report;
            lock.notifyAll();
        }
    }

    /** Sends what is still waiting (at most {@link #FLUSH_TIMEOUT}), then stops the sender. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            if (!sender.join(FLUSH_TIMEOUT)) {
                System.err.println("warning: progress PATCH " + uri + " still not done after " + FLUSH_TIMEOUT.toSeconds()
                        + " s at exit; the last report is in the termination message and progress.json");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sendLoop() {
        while (true) {
            ProgressReport next;
            synchronized (lock) {
                while (waiting == null && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (waiting == null) {
                    return; // closed and nothing left
                }
                next = waiting;
                waiting = null;
            }
            send(next);
        }
    }

    private void send(ProgressReport report) {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/merge-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body(report), StandardCharsets.UTF_8))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                System.err.println("warning: progress PATCH " + uri + " returned " + response.statusCode() + ": "
                        + response.body().lines().findFirst().orElse(""));
            }
        } catch (IOException e) {
            System.err.println("warning: progress PATCH " + uri + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
