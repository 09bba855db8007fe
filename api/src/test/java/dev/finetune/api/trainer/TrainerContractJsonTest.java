package dev.finetune.api.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.SourceDownload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The operator-trainer contract survives JSON both ways, and its reports fit where they must go. */
class TrainerContractJsonTest {

    private static FineTuneJob job() throws Exception {
        FineTuneJob job = TrainerJson.yaml().readValue("""
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: qwen3-summary, namespace: ml, uid: 5c1d}
                spec:
                  model: {pvc: {claimName: models, path: Qwen3-0.6B}}
                  dataset: {pvc: {claimName: data, path: sets/cvpr.json}, evalPath: sets/cvpr-eval.json}
                  lora: {rank: 16, alpha: 32, targetModules: [q_proj, v_proj]}
                  training: {epochs: 10, warmupRatio: 0.05}
                  resources: {gpus: 4, workers: 2}
                  output: {pvc: {claimName: outputs, path: runs/qwen3}}
                """, FineTuneJob.class);
        return job;
    }

    @Test
    void clusterConfigRoundTripsThroughJson() throws Exception {
        TrainerConfig config = TrainerConfigs.forCluster(job(), 2, "checkpoints/step-120", "qwen3-summary-0.qwen3-summary-workers");

        TrainerConfig back = TrainerJson.read(TrainerJson.write(config), TrainerConfig.class);

        assertThat(TrainerJson.write(back)).isEqualTo(TrainerJson.write(config));
        assertThat(back.job()).isEqualTo(new TrainerConfig.JobRef("qwen3-summary", "ml", "5c1d"));
        assertThat(back.attempt()).isEqualTo(2);
        assertThat(back.resumeFrom()).isEqualTo("checkpoints/step-120");
        assertThat(back.paths()).isEqualTo(new TrainerConfig.Paths("/mnt/volumes/models/Qwen3-0.6B",
                "/mnt/volumes/data/sets/cvpr.json", "/mnt/volumes/data/sets/cvpr-eval.json", "/mnt/volumes/outputs/runs/qwen3"));
        assertThat(TrainerJson.write(config)).contains("\"backend\":\"nccl\"");
        assertThat(back.distributed()).isEqualTo(new TrainerConfig.Distributed(2, 4, CollectiveBackend.NCCL,
                "qwen3-summary-0.qwen3-summary-workers", 29500));
        assertThat(back.distributed().worldSize()).isEqualTo(8);
        assertThat(back.spec().getLora().getRank()).isEqualTo(16);
        assertThat(back.spec().getTraining().getWarmupRatio()).isEqualTo(0.05);
        assertThat(back.progress()).isEqualTo(new TrainerConfig.ProgressChannel("qwen3-summary-progress", "ml",
                "progress.json", "/mnt/volumes/outputs/runs/qwen3/progress.json"));
    }

    @Test
    void localRunMapsClaimsToDirectories() throws Exception {
        Map<String, Path> volumes = Map.of("models", Path.of("/home/me/models"), "data", Path.of("/home/me/data"),
                "outputs", Path.of("/tmp/out"));

        TrainerConfig config = TrainerConfigs.forLocalRun(job(), volumes::get, null);

        assertThat(config.paths().modelDir()).isEqualTo("/home/me/models/Qwen3-0.6B");
        assertThat(config.paths().evalPath()).isEqualTo("/home/me/data/sets/cvpr-eval.json");
        assertThat(config.distributed().worldSize()).isEqualTo(1);
        assertThat(config.distributed().backend()).isEqualTo(CollectiveBackend.TCP);
        assertThat(config.progress().configMapName()).isNull();
        assertThat(config.progress().file()).isEqualTo("/tmp/out/runs/qwen3/progress.json");
    }

    private static ProgressReport report(int epochs) {
        Progress progress = new Progress();
        progress.setEpoch(epochs);
        progress.setTotalEpochs(epochs);
        progress.setStep(120L * epochs);
        progress.setTotalSteps(120L * epochs);
        progress.setTrainLoss(1.8731);
        progress.setEvalLoss(2.0125);
        progress.setPerplexity(Math.exp(2.0125));
        progress.setTokensPerSecond(31234.5);
        progress.setUpdated("2026-11-24T01:02:03Z");
        List<EpochRecord> history = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            history.add(new EpochRecord(e, 120L * e, null, 2.5 - 0.01 * e, 2.6 - 0.01 * e, Math.exp(2.6 - 0.01 * e), null, null));
        }
        Outputs outputs = new Outputs();
        outputs.setAdapter("runs/qwen3/final");
        outputs.setBestAdapter("runs/qwen3/best");
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, 42, 1, TrainerState.SUCCEEDED, progress, history,
                new CheckpointRef(epochs, 120L * epochs, "runs/qwen3/checkpoints/step-" + 120 * epochs, null), outputs, null);
    }

    @Test
    void progressReportRoundTripsThroughJson() {
        ProgressReport report = report(3);

        ProgressReport back = TrainerJson.read(TrainerJson.write(report), ProgressReport.class);

        assertThat(back.state()).isEqualTo(TrainerState.SUCCEEDED);
        assertThat(back.progress().getEvalLoss()).isEqualTo(2.0125);
        assertThat(back.progress().getPerplexity()).isEqualTo(Math.exp(2.0125));
        assertThat(back.history()).hasSize(3);
        assertThat(back.history().get(2).evalLoss()).isEqualTo(2.6 - 0.01 * 3);
        assertThat(back.lastCheckpoint().path()).isEqualTo("runs/qwen3/checkpoints/step-360");
        assertThat(TrainerJson.write(back)).isEqualTo(TrainerJson.write(report));
    }

    @Test
    void failureRoundTripsWithItsHint() {
        ProgressReport failed = new ProgressReport(1, 7, 2, TrainerState.FAILED, new Progress(), null, null, null,
                Failure.of(FailureReason.BAD_DATA, "train.jsonl:17: field 'output' is empty"));

        ProgressReport back = TrainerJson.read(TrainerJson.write(failed), ProgressReport.class);

        assertThat(back.failure().reason()).isEqualTo(FailureReason.BAD_DATA);
        assertThat(back.failure().message()).isEqualTo("train.jsonl:17: field 'output' is empty");
        assertThat(back.failure().hint()).contains("skipInvalidRecords");
        assertThat(back.history()).isEmpty();
    }

    @Test
    void terminationSummaryFitsTheKubeletLimitEvenAfterAThousandEpochs() {
        ProgressReport long_ = report(1000);

        byte[] summary = TrainerJson.write(long_.withoutHistory()).getBytes(StandardCharsets.UTF_8);

        assertThat(TrainerJson.write(long_).length()).isGreaterThan(ProgressReport.TERMINATION_MESSAGE_LIMIT);
        assertThat(summary.length).isLessThan(ProgressReport.TERMINATION_MESSAGE_LIMIT);
    }

    @Test
    void failureReasonsHaveDistinctExitCodesAndCamelCaseReasons() {
        assertThat(Arrays.stream(FailureReason.values()).map(FailureReason::exitCode).collect(Collectors.toSet()))
                .hasSize(FailureReason.values().length);
        assertThat(FailureReason.OUT_OF_MEMORY.conditionReason()).isEqualTo("OutOfMemory");
        assertThat(FailureReason.NAN_LOSS.conditionReason()).isEqualTo("NanLoss");
        assertThat(FailureReason.fromExitCode(65)).contains(FailureReason.BAD_DATA);
        assertThat(FailureReason.fromExitCode(1)).isEmpty();
        assertThat(FailureReason.BAD_MODEL.permanent()).isTrue();
        assertThat(FailureReason.COMMUNICATION.permanent()).isFalse();
        assertThat(FailureReason.fromExitCode(73)).contains(FailureReason.OUTPUT_UNWRITABLE);
        assertThat(FailureReason.OUTPUT_UNWRITABLE.permanent()).isTrue();
        assertThat(FailureReason.OUTPUT_UNWRITABLE.conditionReason()).isEqualTo("OutputUnwritable");
        assertThat(FailureReason.fromExitCode(74)).contains(FailureReason.OUTPUT_VOLUME_FULL);
        assertThat(FailureReason.OUTPUT_VOLUME_FULL.permanent()).isTrue();
        assertThat(FailureReason.OUTPUT_VOLUME_FULL.conditionReason()).isEqualTo("OutputVolumeFull");
    }

    /** The memory estimate and the warnings travel with the report, and a report without them does not name them. */
    @Test
    void memoryEstimateAndWarningsRoundTripAndAreAbsentWhenEmpty() {
        ProgressReport plain = new ProgressReport(ProgressReport.SCHEMA_VERSION, 3, 1, TrainerState.TRAINING, null,
                List.of(), null, null, null);
        assertThat(TrainerJson.write(plain)).doesNotContain("memory").doesNotContain("warnings");
        assertThat(plain.warningList()).isEmpty();
        ProgressReport full = new ProgressReport(ProgressReport.SCHEMA_VERSION, 4, 2, TrainerState.TRAINING, null,
                List.of(), null, null, null, new MemoryEstimate(3L << 30, "weights 1.0 GiB (16-bit) + ..."),
                List.of(new TrainerWarning(TrainerWarning.CHECKPOINT_CORRUPT, "checkpoint checkpoints/checkpoint-8 is corrupt")));
        ProgressReport read = TrainerJson.read(TrainerJson.write(full), ProgressReport.class);
        assertThat(read).isEqualTo(full);
        assertThat(read.memory().bytes()).isEqualTo(3L << 30);
        assertThat(read.warningList()).extracting(TrainerWarning::reason).containsExactly("CheckpointCorrupt");
        assertThat(read.withoutHistory().warnings()).isEqualTo(full.warnings());
        assertThat(MemoryEstimate.human(3L << 30)).isEqualTo("3.0 GiB");
        assertThat(MemoryEstimate.human(700L << 20)).isEqualTo("700 MiB");
    }

    /** The initializer's report: downloads only, round-tripped; the trainer's reports never name them. */
    @Test
    void anInitializersDownloadsRoundTripAndReadAsPeopleSayThem() {
        ProgressReport report = ProgressReport.downloading(5, 2, List.of(
                new SourceDownload("model", "hf://Qwen/Qwen3-0.6B@main", 412_000_000L, 1_503_238_553L, "2026-01-01T00:00:00Z"),
                new SourceDownload("dataset", "hf://datasets/org/notes@v1", 999, 999, "2026-01-01T00:00:01Z")));
        ProgressReport read = TrainerJson.read(TrainerJson.write(report), ProgressReport.class);
        assertThat(read).isEqualTo(report);
        assertThat(read.state()).isEqualTo(TrainerState.INITIALIZING);
        assertThat(read.withoutHistory().downloads()).isEqualTo(report.downloads());
        assertThat(TrainerJson.write(report)).doesNotContain("complete").doesNotContain("describe");
        assertThat(read.downloadList()).extracting(SourceDownload::describe).containsExactly(
                "model hf://Qwen/Qwen3-0.6B@main: 412 MB of 1.50 GB (27%)", "dataset hf://datasets/org/notes@v1: 999 B of 999 B (100%)");
        assertThat(read.downloadList()).extracting(SourceDownload::complete).containsExactly(false, true);
        assertThat(TrainerJson.write(new ProgressReport(ProgressReport.SCHEMA_VERSION, 3, 1, TrainerState.TRAINING, null,
                List.of(), null, null, null))).doesNotContain("downloads");
        assertThat(SourceDownload.bytes(12_345_678_901L)).isEqualTo("12.3 GB");
        assertThat(SourceDownload.describe("empty", 0, 0)).isEqualTo("empty: 0 B of 0 B (100%)");
    }

    /** A local run is nobody's gang member: its hints never promise a restart from the operator. */
    @Test
    void localHintsSayNothingOfGangRestarts() {
        assertThat(FailureReason.INTERNAL.hint()).contains("restarts from the last checkpoint");
        for (FailureReason reason : FailureReason.values()) {
            assertThat(reason.localHint()).as(reason.name()).isNotBlank()
                    .doesNotContainIgnoringCase("gang").doesNotContainIgnoringCase("cluster job")
                    .doesNotContainIgnoringCase("the job resumes").doesNotContainIgnoringCase("worker");
        }
        assertThat(FailureReason.INTERNAL.localHint()).contains("bug in the trainer").contains("open an issue");
    }
}
