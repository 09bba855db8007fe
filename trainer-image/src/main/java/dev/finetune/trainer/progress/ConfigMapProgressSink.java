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
 */
public final class ConfigMapProgressSink implements ProgressSink {

    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    private final HttpClient http;
    private final URI uri;
    private final String token;
    private final String key;

    ConfigMapProgressSink(HttpClient http, URI apiServer, String token, String namespace, String configMap, String key) {
        this.http = http;
        this.uri = apiServer.resolve("/api/v1/namespaces/" + namespace + "/configmaps/" + configMap);
        this.token = token;
        this.key = key;
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
                .connectTimeout(Duration.ofSeconds(5))
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

    @Override
    public void publish(ProgressReport report) {
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
