package dev.finetune.trainer.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.source.HubRepo;
import dev.finetune.api.source.Source;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The initializer's hub download against a real HTTP server on loopback. */
class HubDownloaderTest {

    private static final String MODEL = "tiny-org/tiny-llama";
    private static final byte[] CONFIG = "{\"model_type\": \"llama\", \"hidden_size\": 16}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] WEIGHTS = randomBytes(300_000, 7);
    private static final byte[] TOKENIZER = randomBytes(5_000, 8);

    @TempDir
    Path cacheRoot;

    private FakeHub hub;
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private String commit;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", CONFIG);
        files.put("model.safetensors", WEIGHTS);
        files.put("tokenizer.json", TOKENIZER);
        commit = hub.addModel(MODEL, "main", files);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private HubDownloader downloader(String token, int attempts, boolean offline) {
        RetryPolicy retry = new RetryPolicy(attempts, Duration.ofMillis(250), Duration.ofSeconds(60), sleeps::add);
        return new HubDownloader(new HubClient(hub.url(), token, retry), new HubCache(cacheRoot), offline);
    }

    private static HubRepo model(String uri) {
        return (HubRepo) Source.parse(uri, "spec.model.source");
    }

    @Test
    void snapshotLandsInTheHubCacheLayoutVerifiedAndLinked() throws IOException {
        List<long[]> progress = new ArrayList<>();

        Path dir = downloader(null, 3, false).fetch(model("hf://" + MODEL), (done, total) -> progress.add(new long[] {done, total}));

        Path repoDir = cacheRoot.resolve("models--tiny-org--tiny-llama");
        assertThat(dir).isEqualTo(repoDir.resolve("snapshots/main"));
        assertThat(Files.readAllBytes(dir.resolve("config.json"))).isEqualTo(CONFIG);
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(WEIGHTS);
        assertThat(Files.readString(repoDir.resolve("refs/main"))).isEqualTo(commit);
        assertThat(Files.readSymbolicLink(repoDir.resolve("snapshots/main"))).isEqualTo(Path.of(commit));
        // LFS files are named by their sha256, the small ones by their Git blob id
        assertThat(repoDir.resolve("blobs/" + FakeHub.sha256(WEIGHTS))).exists();
        assertThat(repoDir.resolve("blobs/" + FakeHub.gitBlobId(CONFIG))).exists();
        assertThat(Files.readSymbolicLink(repoDir.resolve("snapshots/" + commit + "/model.safetensors")))
                .isEqualTo(Path.of("../../blobs/" + FakeHub.sha256(WEIGHTS)));
        long total = CONFIG.length + WEIGHTS.length + TOKENIZER.length;
        assertThat(progress.getFirst()).containsExactly(0, total);
        assertThat(progress.getLast()).containsExactly(total, total);
        assertThat(progress).allSatisfy(p -> assertThat(p[0]).isBetween(0L, total));
    }

    @Test
    void aSecondFetchOnlyAsksForTheFileList() {
        downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);
        int before = hub.seen().size();

        downloader(null, 3, false).fetch(model("hf://" + MODEL + "@main"), TransferProgress.NONE);

        assertThat(hub.seen().subList(before, hub.seen().size())).singleElement()
                .satisfies(s -> assertThat(s.path()).isEqualTo("/api/models/" + MODEL + "/revision/main"));
    }

    @Test
    void aTransferCutOffMidwayResumesWithARangeRequest() throws IOException {
        hub.cutAfter("model.safetensors", 100_000);

        Path dir = downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);

        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(WEIGHTS);
        List<FakeHub.Seen> transfers = hub.seen().stream().filter(s -> s.path().endsWith("/model.safetensors")).toList();
        assertThat(transfers).extracting(FakeHub.Seen::status).containsExactly(200, 206);
        assertThat(transfers.getFirst().range()).isNull();
        // the resume starts where the bytes that reached the file end: at the cut, or before it when the last bytes
        // sent were still in flight (socket buffers) as the connection dropped
        assertThat(transfers.get(1).range()).matches("bytes=[0-9]+-");
        long resumedAt = Long.parseLong(transfers.get(1).range().replaceAll("[^0-9]", ""));
        assertThat(resumedAt).isPositive().isLessThanOrEqualTo(100_000);
        assertThat(sleeps).isEmpty();
    }

    @Test
    void rateLimitsAreWaitedOutAsTheServerAsks() {
        hub.failWith("tokenizer.json", 429, "7", 2);

        downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);

        assertThat(sleeps).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(7));
    }

    @Test
    void serverErrorsAreRetriedWithBackoffThenReportedNamingTheFile() {
        hub.failWith("config.json", 503, null, 10);

        assertThatThrownBy(() -> downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.UNAVAILABLE);
                    assertThat(e.transientFailure()).isTrue();
                })
                .hasMessageContaining("config.json of hf://" + MODEL + "@main: HTTP 503")
                .hasMessageContaining("gave up after 3 attempts");
        assertThat(sleeps).containsExactly(Duration.ofMillis(250), Duration.ofMillis(500));
    }

    @Test
    void aPrivateRepositoryNeedsTheTokenWhichNeverAppearsInMessages() {
        String token = "hf_secretTokenValue123";
        hub.requireToken(token);

        assertThatThrownBy(() -> downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.UNAUTHORIZED))
                .hasMessageContaining("HTTP 401").hasMessageContaining("tokenSecret");
        assertThatThrownBy(() -> downloader("hf_wrong", 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE))
                .hasMessageContaining("the token was refused").hasMessageNotContaining("hf_wrong");

        Path dir = downloader(token, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);

        assertThat(dir.resolve("config.json")).exists();
        assertThat(hub.seen()).filteredOn(s -> s.status() == 200).allSatisfy(s ->
                assertThat(s.authorization()).isEqualTo("Bearer " + token));
        assertThat(new HubClient(hub.url(), token, RetryPolicy.standard()).toString()).doesNotContain(token);
    }

    @Test
    void unknownRepositoryOrRevisionIsNotFoundNamingIt() {
        assertThatThrownBy(() -> downloader(null, 3, false).fetch(model("hf://tiny-org/missing@v9"), TransferProgress.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.NOT_FOUND))
                .hasMessageContaining("hf://tiny-org/missing@v9: HTTP 404")
                .hasMessageContaining("check the repository name and revision");
        assertThat(sleeps).isEmpty();
    }

    @Test
    void alteredBytesAreDownloadedAgainAndPersistentCorruptionFails() throws IOException {
        hub.corrupt("model.safetensors", 1);
        Path dir = downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(WEIGHTS);
        assertThat(hub.transfersOf("model.safetensors")).isEqualTo(2);

        hub.addModel("tiny-org/other", "main", Map.of("config.json", CONFIG));
        hub.corrupt("config.json", 2);
        assertThatThrownBy(() -> downloader(null, 3, false).fetch(model("hf://tiny-org/other"), TransferProgress.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.CORRUPT))
                .hasMessageContaining("config.json of hf://tiny-org/other@main does not match its git blob id "
                        + FakeHub.gitBlobId(CONFIG));
        assertThat(cacheRoot.resolve("models--tiny-org--other/blobs/" + FakeHub.gitBlobId(CONFIG))).doesNotExist();
    }

    @Test
    void offlineModeAnswersFromTheCacheOnly() {
        assertThatThrownBy(() -> downloader(null, 3, true).fetch(model("hf://" + MODEL), TransferProgress.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.NOT_CACHED))
                .hasMessageContaining("HF_HUB_OFFLINE");
        Path online = downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE);
        int requests = hub.seen().size();

        Path offline = downloader(null, 3, true).fetch(model("hf://" + MODEL), TransferProgress.NONE);

        assertThat(offline).isEqualTo(online);
        assertThat(hub.seen()).hasSize(requests);
        assertThat(HubDownloader.offlineFromEnvironment(Map.of("HF_HUB_OFFLINE", "1"))).isTrue();
        assertThat(HubDownloader.offlineFromEnvironment(Map.of())).isFalse();
    }

    @Test
    void concurrentJobsOnTheSameModelShareOneDownload() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Path>> jobs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                jobs.add(pool.submit(() -> downloader(null, 3, false).fetch(model("hf://" + MODEL), TransferProgress.NONE)));
            }
            for (Future<Path> job : jobs) {
                assertThat(Files.readAllBytes(job.get().resolve("model.safetensors"))).isEqualTo(WEIGHTS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(hub.transfersOf("model.safetensors")).isEqualTo(1);
        assertThat(hub.transfersOf("config.json")).isEqualTo(1);
    }

    @Test
    void aDatasetPathSelectsOnlyTheFilesUnderIt() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("README.md", "# data".getBytes(StandardCharsets.UTF_8));
        files.put("data/train.jsonl", "{\"text\": \"a\"}\n".getBytes(StandardCharsets.UTF_8));
        files.put("data/eval.jsonl", "{\"text\": \"b\"}\n".getBytes(StandardCharsets.UTF_8));
        hub.addDataset("tiny-org/notes", "v1", files);

        Path content = downloader(null, 3, false).fetch((HubRepo) Source.parse("hf://datasets/tiny-org/notes@v1/data/train.jsonl",
                "spec.dataset.source"), TransferProgress.NONE);

        assertThat(content).isEqualTo(cacheRoot.resolve("datasets--tiny-org--notes/snapshots/v1/data/train.jsonl"));
        assertThat(Files.readString(content)).isEqualTo("{\"text\": \"a\"}\n");
        assertThat(hub.transfersOf("eval.jsonl")).isZero();
        assertThat(hub.transfersOf("README.md")).isZero();
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
