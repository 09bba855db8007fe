package dev.finetune.trainer.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressSinkTest {

    @TempDir
    Path tmp;

    static ProgressReport report(TrainerState state, Failure failure) {
        Progress p = new Progress();
        p.setStep(12L);
        p.setEvalLoss(2.5);
        p.setPerplexity(Math.exp(2.5));
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, 3, 1, state, p, List.of(), null, null, failure);
    }

    @Test
    void fileSinkReplacesTheFileWithTheLatestReport() throws Exception {
        Path file = tmp.resolve("out/progress.json");
        FileProgressSink sink = new FileProgressSink(file);
        sink.publish(report(TrainerState.TRAINING, null));
        sink.publish(report(TrainerState.FAILED, Failure.of(FailureReason.NAN_LOSS, "loss is NaN at step 12")));
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertThat(json.path("state").asText()).isEqualTo("FAILED");
        assertThat(json.path("failure").path("reason").asText()).isEqualTo("NAN_LOSS");
        assertThat(json.path("progress").path("step").asLong()).isEqualTo(12);
        try (var files = Files.list(file.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("progress.json");
        }
    }

    @Test
    void configMapSinkSendsAMergePatchOfOneKeyWithTheServiceAccountToken() throws Exception {
        List<String> seen = new ArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            seen.add(exchange.getRequestHeaders().getFirst("Authorization"));
            seen.add(exchange.getRequestHeaders().getFirst("Content-Type"));
            seen.add(body);
            byte[] reply = "{}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, reply.length);
            exchange.getResponseBody().write(reply);
            exchange.close();
        });
        server.start();
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
            ConfigMapProgressSink sink = ConfigMapProgressSink.at(base, "tok3n", "team-a", "job-progress", "progress.json");
            sink.publish(report(TrainerState.TRAINING, null));
            sink.close(); // sends what is waiting
        } finally {
            server.stop(0);
        }
        assertThat(seen.get(0)).isEqualTo("PATCH /api/v1/namespaces/team-a/configmaps/job-progress");
        assertThat(seen.get(1)).isEqualTo("Bearer tok3n");
        assertThat(seen.get(2)).isEqualTo("application/merge-patch+json");
        JsonNode patch = new ObjectMapper().readTree(seen.get(3));
        JsonNode inner = new ObjectMapper().readTree(patch.path("data").path("progress.json").asText());
        assertThat(inner.path("state").asText()).isEqualTo("TRAINING");
        assertThat(inner.path("sequence").asLong()).isEqualTo(3);
    }

    @Test
    void anUnreachableApiServerDoesNotThrowIntoTrainingAndIsReportedAsAWarning() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            ConfigMapProgressSink sink = ConfigMapProgressSink.at(URI.create("http://127.0.0.1:9"), "t", "ns", "cm", "k");
            assertThatCode(() -> {
                sink.publish(report(TrainerState.TRAINING, null));
                sink.close(); // waits for the sender, which has given up on the refused connection
            }).doesNotThrowAnyException();
        } finally {
            System.setErr(original);
        }
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("warning: progress PATCH http://127.0.0.1:9/api/v1/namespaces/ns/configmaps/cm failed");
    }

    @Test
    void aSlowApiServerNeverBlocksTrainingAndTheNewestReportWinsAndIsSentOnClose() throws Exception {
        List<Long> sequences = new CopyOnWriteArrayList<>();
        CountDownLatch firstArrived = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            JsonNode patch = new ObjectMapper().readTree(exchange.getRequestBody().readAllBytes());
            sequences.add(new ObjectMapper().readTree(patch.path("data").path("k").asText()).path("sequence").asLong());
            firstArrived.countDown();
            try {
                release.await(); // the API server takes its time (a cold TLS handshake, a busy server)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newSingleThreadExecutor());
        server.start();
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
            ConfigMapProgressSink sink = ConfigMapProgressSink.at(base, "t", "ns", "cm", "k");
            sink.publish(report(1, TrainerState.INITIALIZING));
            assertThat(firstArrived.await(10, TimeUnit.SECONDS)).isTrue();

            long start = System.nanoTime();
            sink.publish(report(2, TrainerState.TRAINING));
            sink.publish(report(3, TrainerState.EVALUATING));
            sink.publish(report(4, TrainerState.SUCCEEDED));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));

            release.countDown();
            sink.close();
        } finally {
            server.stop(0);
        }
        // 2 and 3 were replaced while 1 was in flight; the final report went out before close returned
        assertThat(sequences).containsExactly(1L, 4L);
    }

    static ProgressReport report(long sequence, TrainerState state) {
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, sequence, 1, state, new Progress(), List.of(), null,
                null, null);
    }
}
