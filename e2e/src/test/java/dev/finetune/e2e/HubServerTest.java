package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** HubSourceE2E's hub on loopback: the endpoints and metadata the trainer's initializer reads, with a Range request. */
class HubServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<byte[]> get(String url, String range) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (range != null) {
            request.header("Range", range);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void listsLfsHashesAndBlobIdsAndServesFilesWholeOrFromAnOffset() throws Exception {
        byte[] weights = new byte[5000];
        Arrays.fill(weights, (byte) 7);
        byte[] config = "{\"model_type\": \"llama\"}".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", config);
        files.put("model.safetensors", weights);
        try (HubServer hub = HubServer.start(InetAddress.getLoopbackAddress())) {
            hub.addModel("org/tiny", "main", files);
            hub.addDataset("org/notes", "v1", Map.of("train.jsonl", config));
            hub.pace(1024, 1);

            JsonNode info = Serialization.unmarshal(new String(get(hub.url() + "/api/models/org/tiny/revision/main?blobs=true",
                    null).body(), StandardCharsets.UTF_8), JsonNode.class);
            String commit = info.path("sha").asText();
            assertThat(commit).matches("[0-9a-f]{40}");
            JsonNode small = info.path("siblings").get(0);
            JsonNode large = info.path("siblings").get(1);
            assertThat(small.path("rfilename").asText()).isEqualTo("config.json");
            assertThat(small.path("blobId").asText()).isEqualTo(HubServer.gitBlobId(config));
            assertThat(small.has("lfs")).isFalse();
            assertThat(large.path("size").asLong()).isEqualTo(5000);
            assertThat(large.at("/lfs/sha256").asText())
                    .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights)));

            HttpResponse<byte[]> whole = get(hub.url() + "/org/tiny/resolve/" + commit + "/model.safetensors", null);
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(weights);
            HttpResponse<byte[]> rest = get(hub.url() + "/org/tiny/resolve/" + commit + "/model.safetensors", "bytes=4000-");
            assertThat(rest.statusCode()).isEqualTo(206);
            assertThat(rest.headers().firstValue("Content-Range")).hasValue("bytes 4000-4999/5000");
            assertThat(rest.body()).isEqualTo(Arrays.copyOfRange(weights, 4000, 5000));
            assertThat(get(hub.url() + "/datasets/org/notes/resolve/v1/train.jsonl", null).body()).isEqualTo(config);

            assertThat(get(hub.url() + "/api/models/org/tiny/revision/nope", null).statusCode()).isEqualTo(404);
            assertThat(get(hub.url() + "/org/tiny/resolve/" + commit + "/missing.bin", null).statusCode()).isEqualTo(404);
            assertThat(hub.served()).containsExactly("org/tiny/resolve/" + commit + "/model.safetensors",
                    "org/tiny/resolve/" + commit + "/model.safetensors", "org/notes/resolve/v1/train.jsonl");
        }
    }
}
