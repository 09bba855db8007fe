package dev.finetune.trainer.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.finetune.api.source.OciRef;
import dev.finetune.api.source.Source;
import dev.finetune.trainer.hub.RetryPolicy;
import dev.finetune.trainer.init.SourceInitializer;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push and pull against CNCF Distribution's registry on loopback (skipped when its binary is not built). */
class OciArtifactsTest {

    @TempDir
    static Path work;

    private static LoopbackRegistry registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = LoopbackRegistry.start(Files.createDirectories(work.resolve("open")), "");
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    private static OciArtifacts artifacts() {
        return new OciArtifacts(new RegistryClient(registry.address(), true, null));
    }

    private Path adapter(String name, float scale) throws IOException {
        return adapter(name, scale, "tiny-org/tiny-llama");
    }

    private Path adapter(String name, float scale, String baseModel) throws IOException {
        Path adapter = Files.createDirectories(dir.resolve(name));
        Files.writeString(adapter.resolve("adapter_config.json"), """
                {"base_model_name_or_path": "%s", "peft_type": "LORA", "r": 2, "lora_alpha": 4,
                 "target_modules": ["q_proj"]}""".formatted(baseModel));
        new SafetensorsWriter()
                .addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "F32", new long[] {2, 4},
                        new float[] {1, 2, 3, 4, 5, 6, 7, 8})
                .addFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "F32", new long[] {4, 2},
                        new float[] {scale, 0, 0, scale, 0, 0, scale, scale})
                .write(adapter.resolve("adapter_model.safetensors"));
        return adapter;
    }

    @Test
    void anAdapterPushedIsPulledBackByDigestAndLoads() throws Exception {
        Path adapter = adapter("final", 0.5f);
        OciRef target = OciRef.parse(registry.address() + "/adapters/demo:v1", "REF");

        OciArtifacts.Pushed pushed = artifacts().push(adapter, target, ArtifactLayout.ADAPTER_ARTIFACT);

        assertThat(pushed.files()).containsExactly("adapter_config.json", "adapter_model.safetensors");
        assertThat(pushed.pinned().toString()).isEqualTo(registry.address() + "/adapters/demo@" + pushed.digest());
        Path out = dir.resolve("pulled");
        OciArtifacts.Pulled pulled = artifacts().pull(pushed.pinned(), out);
        assertThat(pulled.digest()).isEqualTo(pushed.digest());
        for (String file : pushed.files()) {
            assertThat(out.resolve(file)).hasSameBinaryContentAs(adapter.resolve(file));
        }
        try (SafetensorsFile weights = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
            assertThat(weights.readFloats("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"))
                    .containsExactly(0.5f, 0, 0, 0.5f, 0, 0, 0.5f, 0.5f);
        }
        // the tag names the same manifest, and an identical push gives the identical digest
        assertThat(artifacts().pull(target, dir.resolve("by-tag")).digest()).isEqualTo(pushed.digest());
        assertThat(artifacts().push(adapter, target, ArtifactLayout.ADAPTER_ARTIFACT).digest()).isEqualTo(pushed.digest());
    }

    @Test
    void theManifestIsAnOrasStyleArtifact() throws Exception {
        OciArtifacts.Pushed pushed = artifacts().push(adapter("layout", 1f),
                OciRef.parse(registry.address() + "/adapters/layout:v1", "REF"), ArtifactLayout.ADAPTER_ARTIFACT);

        HttpResponse<byte[]> raw = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                        + registry.address() + "/v2/adapters/layout/manifests/" + pushed.digest()))
                .header("Accept", ArtifactLayout.MANIFEST).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode manifest = new ObjectMapper().readTree(raw.body());

        assertThat(raw.headers().firstValue("Docker-Content-Digest")).contains(pushed.digest());
        assertThat(manifest.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        assertThat(manifest.path("artifactType").asText()).isEqualTo("application/vnd.finetune.adapter.v1");
        assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo("application/vnd.oci.empty.v1+json");
        assertThat(manifest.path("layers").findValuesAsText("org.opencontainers.image.title"))
                .containsExactly("adapter_config.json", "adapter_model.safetensors");
        assertThat(manifest.path("layers").findValuesAsText("mediaType"))
                .containsExactly("application/json", "application/vnd.finetune.safetensors");
        assertThat(manifest.path("annotations").path("dev.finetune.base-model").asText()).isEqualTo("tiny-org/tiny-llama");
    }

    @Test
    void anUnknownTagIsNotFoundAndNotRetryable() {
        assertThatThrownBy(() -> artifacts().pull(OciRef.parse(registry.address() + "/adapters/none:v9", "REF"), dir.resolve("x")))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.transientFailure()).isFalse())
                .hasMessageContaining("fetching adapters/none:v9: not found (HTTP 404)");
    }

    @Test
    void aBlobAlteredInTheRegistrysStorageIsRefusedOnPull() throws Exception {
        OciArtifacts.Pushed pushed = artifacts().push(adapter("tamper", 2f, "tiny-org/only-in-the-tamper-test"),
                OciRef.parse(registry.address() + "/adapters/tamper:v1", "REF"), ArtifactLayout.ADAPTER_ARTIFACT);
        String configDigest = "sha256:" + dev.finetune.trainer.hub.FileHashes.sha256(dir.resolve("tamper/adapter_config.json"));
        String hex = configDigest.substring("sha256:".length());
        Path data = work.resolve("open/storage/docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
        Files.writeString(data, "{\"tampered\": true}");

        assertThatThrownBy(() -> artifacts().pull(pushed.pinned(), dir.resolve("refused")))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("blob " + configDigest + " of adapters/tamper arrived with digest sha256:");
        assertThat(dir.resolve("refused/adapter_config.json")).doesNotExist();
    }

    @Test
    void anOciModelSourceLandsInTheCacheUnderItsTag() throws Exception {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"llama\"}");
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3});
        OciArtifacts.Pushed pushed = artifacts().push(model, OciRef.parse(registry.address() + "/models/tiny:v1", "REF"),
                ArtifactLayout.MODEL_ARTIFACT);
        Source source = Source.parse("oci://" + registry.address() + "/models/tiny:v1", "spec.model.source");
        List<long[]> progress = new CopyOnWriteArrayList<>();

        Path content = new SourceInitializer(Map.of(), RetryPolicy.standard())
                .fetch(source, dir.resolve("cache"), null, (done, total) -> progress.add(new long[] {done, total}));

        assertThat(content).isEqualTo(source.contentDir(dir.resolve("cache")));
        assertThat(content.resolve("config.json")).hasSameTextualContentAs(model.resolve("config.json"));
        assertThat(Files.readSymbolicLink(content)).isEqualTo(Path.of(pushed.digest().replace(":", "-")));
        assertThat(progress.getLast()).containsExactly(3 + Files.size(model.resolve("config.json")),
                3 + Files.size(model.resolve("config.json")));
    }

    @Test
    void tokenAuthUsesTheDockerConfigsCredentials() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer tokens = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String basic = "Basic " + Base64.getEncoder().encodeToString("ci:s3cret".getBytes(StandardCharsets.UTF_8));
        tokens.createContext("/token", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            seen.add(exchange.getRequestURI().getQuery());
            byte[] body = "{\"token\": \"issued-token\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(basic.equals(auth) ? 200 : 401, basic.equals(auth) ? body.length : -1);
            if (basic.equals(auth)) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        tokens.start();
        String realm = "http://127.0.0.1:" + tokens.getAddress().getPort() + "/token";
        try (LoopbackRegistry guarded = LoopbackRegistry.start(Files.createDirectories(dir.resolve("guarded")), """
                auth:
                  silly:
                    realm: %s
                    service: loopback-registry
                """.formatted(realm))) {
            OciRef target = OciRef.parse(guarded.address() + "/adapters/private:v1", "REF");
            Path adapter = adapter("private", 1f);

            assertThatThrownBy(() -> new OciArtifacts(new RegistryClient(guarded.address(), true, null))
                    .push(adapter, target, ArtifactLayout.ADAPTER_ARTIFACT))
                    .isInstanceOf(RegistryException.class).hasMessageContaining("HTTP 401")
                    .hasMessageContaining("credentialsSecret");

            Path dockerConfig = dir.resolve("config.json");
            Files.writeString(dockerConfig, "{\"auths\": {\"" + guarded.address() + "\": {\"auth\": \""
                    + Base64.getEncoder().encodeToString("ci:s3cret".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
            RegistryClient client = Registries.client(target, true, dockerConfig);
            OciArtifacts.Pushed pushed = new OciArtifacts(client).push(adapter, target, ArtifactLayout.ADAPTER_ARTIFACT);

            assertThat(new OciArtifacts(client).pull(pushed.pinned(), dir.resolve("private-pulled")).digest())
                    .isEqualTo(pushed.digest());
            assertThat(seen).anySatisfy(q -> assertThat(q).contains("service=loopback-registry")
                    .contains("scope=repository:adapters/private"));
            assertThat(client.toString()).doesNotContain("s3cret");
        } finally {
            tokens.stop(0);
        }
    }

    @Test
    void dockerConfigEntriesAreReadByRegistry() throws IOException {
        Path config = dir.resolve("docker.json");
        Files.writeString(config, "{\"auths\": {\"r.example:5000\": {\"username\": \"u\", \"password\": \"p\"}, "
                + "\"https://other.example\": {\"auth\": \"" + Base64.getEncoder().encodeToString("a:b:c".getBytes(StandardCharsets.UTF_8)) + "\"}}}");

        assertThat(RegistryCredentials.fromDockerConfig(config, "r.example:5000")).contains(new RegistryCredentials("u", "p"));
        assertThat(RegistryCredentials.fromDockerConfig(config, "other.example")).contains(new RegistryCredentials("a", "b:c"));
        assertThat(RegistryCredentials.fromDockerConfig(config, "third.example")).isEmpty();
        assertThat(new RegistryCredentials("u", "p").toString()).doesNotContain("p]").contains("password hidden");
        try (Stream<Path> ignored = Files.list(dir)) {
            assertThat(Registries.insecure("localhost:5000", Map.of())).isTrue();
            assertThat(Registries.insecure("r.example:5000", Map.of())).isFalse();
            assertThat(Registries.insecure("r.example:5000", Map.of(Registries.INSECURE_ENV, "x.example, r.example:5000"))).isTrue();
        }
    }
}
