package dev.finetune.operator.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.operator.children.WorkerJobRenderer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GangObserverTest {

    static Job job(String condition, boolean suspended) {
        JobBuilder b = new JobBuilder().withNewMetadata().withName("j-attempt-1").endMetadata()
                .withNewSpec().withSuspend(suspended).withCompletions(2).endSpec();
        if (condition != null) {
            b.withNewStatus().addNewCondition().withType(condition).withStatus("True").withMessage("m").endCondition().endStatus();
        }
        return b.build();
    }

    static PodBuilder pod(int index) {
        return new PodBuilder().withNewMetadata().withName("j-attempt-1-" + index)
                .addToAnnotations(WorkerJobRenderer.COMPLETION_INDEX_ANNOTATION, Integer.toString(index)).endMetadata();
    }

    static Pod ready(int index) {
        return pod(index).withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build();
    }

    static Pod exited(int index, int code, String reason, String message) {
        return pod(index).withNewStatus().withPhase(code == 0 ? "Succeeded" : "Failed")
                .addNewContainerStatus().withName("trainer").withNewState().withNewTerminated().withExitCode(code)
                .withReason(reason).withMessage(message).endTerminated().endState().endContainerStatus().endStatus().build();
    }

    static Pod waiting(int index, String reason) {
        return pod(index).withNewStatus().withPhase("Pending")
                .addNewContainerStatus().withName("trainer").withNewState().withNewWaiting().withReason(reason)
                .withMessage("Back-off pulling image \"nope\"").endWaiting().endState().endContainerStatus().endStatus().build();
    }

    @Test
    void aRunningInitializerIsReportedAsDownloading() {
        Pod downloading = pod(1).withNewStatus().withPhase("Pending").addNewInitContainerStatus().withName("initialize")
                .withNewState().withNewRunning().endRunning().endState().endInitContainerStatus().endStatus().build();

        GangStatus status = GangObserver.observe(job(null, false), List.of(ready(0), downloading), Optional.empty(), 2);

        assertThat(status.kind()).isEqualTo(GangStatus.Kind.STARTING);
        assertThat(status.problem()).isEqualTo("Downloading");
        assertThat(status.problemMessage()).contains("Pod j-attempt-1-1 is downloading")
                .contains("kubectl logs j-attempt-1-1 -c initialize");
        assertThat(status.stalled()).isFalse();
    }

    static Pod initializing(int index) {
        return pod(index).withNewStatus().withPhase("Pending").addNewInitContainerStatus().withName("initialize")
                .withNewState().withNewRunning().endRunning().endState().endInitContainerStatus().endStatus().build();
    }

    @Test
    void rankZerosReportedBytesAreInTheDownloadingMessage() {
        List<SourceDownload> downloads = List.of(
                new SourceDownload("model", "hf://Qwen/Qwen3-0.6B@main", 412_000_000L, 1_503_238_553L, "2026-01-01T00:00:00Z"),
                new SourceDownload("dataset", "hf://datasets/yahma/alpaca-cleaned@main", 0, 44_307_561L, "2026-01-01T00:00:00Z"));

        GangStatus status = GangObserver.observe(job(null, false), List.of(initializing(1), initializing(0)), Optional.empty(),
                downloads, 2);

        assertThat(status.problem()).isEqualTo("Downloading");
        assertThat(status.problemMessage())
                .isEqualTo("Pod j-attempt-1-0: downloading model hf://Qwen/Qwen3-0.6B@main: 412 MB of 1.50 GB (27%).");
    }

    @Test
    void onceRankZerosSourcesAreCompleteTheMessagePointsAtTheLogOfThePodStillDownloading() {
        List<SourceDownload> done = List.of(new SourceDownload("model", "hf://Qwen/Qwen3-0.6B@main", 1_503_238_553L,
                1_503_238_553L, "2026-01-01T00:00:00Z"));

        GangStatus status = GangObserver.observe(job(null, false), List.of(initializing(1)), Optional.empty(), done, 2);

        assertThat(status.problemMessage()).startsWith("Pod j-attempt-1-1 is downloading")
                .contains("kubectl logs j-attempt-1-1 -c initialize");
    }

    @Test
    void aFailedInitializerFailsTheGangWithItsExitCodesReason() {
        Pod refused = pod(0).withNewStatus().withPhase("Failed").addNewInitContainerStatus().withName("initialize")
                .withNewState().withNewTerminated().withExitCode(78).withReason("Error")
                .withMessage("finetune init: BAD_CONFIG: model hf://org/private@main: HTTP 401").endTerminated().endState()
                .endInitContainerStatus().endStatus().build();

        GangStatus status = GangObserver.observe(job("Failed", false), List.of(refused), Optional.empty(), 2);

        assertThat(status.kind()).isEqualTo(GangStatus.Kind.FAILED);
        assertThat(status.failure().message()).contains("exited with code 78").contains("HTTP 401");
        assertThat(status.failure().permanent()).isTrue();
    }

    @Test
    void allReadyIsRunningOtherwiseStarting() {
        assertThat(GangObserver.observe(job(null, false), List.of(ready(0), ready(1)), Optional.empty(), 2).kind())
                .isEqualTo(GangStatus.Kind.RUNNING);
        GangStatus starting = GangObserver.observe(job(null, false), List.of(ready(0)), Optional.empty(), 2);
        assertThat(starting.kind()).isEqualTo(GangStatus.Kind.STARTING);
        assertThat(starting.problemMessage()).isEqualTo("1 of 2 worker pods are running.");
    }

    @Test
    void workersThatExitedZeroBeforeTheJobCountsThemKeepTheGangRunningNotStarting() {
        Pod done0 = exited(0, 0, "Completed", null);
        GangStatus oneDone = GangObserver.observe(job(null, false), List.of(done0, ready(1)), Optional.empty(), 2);
        assertThat(oneDone.kind()).isEqualTo(GangStatus.Kind.RUNNING);
        GangStatus allDone = GangObserver.observe(job(null, false), List.of(done0, exited(1, 0, "Completed", null)),
                Optional.empty(), 2);
        assertThat(allDone.kind()).isEqualTo(GangStatus.Kind.RUNNING);
        GangStatus oneDoneOneStarting = GangObserver.observe(job(null, false), List.of(done0, pod(1).build()), Optional.empty(), 2);
        assertThat(oneDoneOneStarting.kind()).isEqualTo(GangStatus.Kind.STARTING);
    }

    @Test
    void badImageStallsAndUnschedulableWaits() {
        GangStatus image = GangObserver.observe(job(null, false), List.of(ready(0), waiting(1, "ImagePullBackOff")), Optional.empty(), 2);
        assertThat(image.problem()).isEqualTo("ImagePullBackOff");
        assertThat(image.stalled()).isTrue();
        Pod unschedulable = pod(1).withNewStatus().withPhase("Pending").addNewCondition().withType("PodScheduled").withStatus("False")
                .withReason("Unschedulable").withMessage("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.").endCondition()
                .endStatus().build();
        GangStatus pending = GangObserver.observe(job(null, false), List.of(ready(0), unschedulable), Optional.empty(), 2);
        assertThat(pending.problem()).isEqualTo("Unschedulable");
        assertThat(pending.problemMessage()).contains("Insufficient nvidia.com/gpu");
        assertThat(pending.stalled()).isFalse();
    }

    @Test
    void suspendedJobIsQueuedAndCompleteJobSucceeded() {
        assertThat(GangObserver.observe(job(null, true), List.of(), Optional.empty(), 2).kind()).isEqualTo(GangStatus.Kind.QUEUED);
        assertThat(GangObserver.observe(job("Complete", false), List.of(), Optional.empty(), 2).kind()).isEqualTo(GangStatus.Kind.SUCCEEDED);
    }

    @Test
    void permanentCauseOnAnyRankBeatsTheInterruptionsOfTheTeardown() {
        // Rank 3 ran out of memory (exit 68); the Job controller then stopped the others (143, INTERRUPTED).
        GangStatus failed = GangObserver.observe(job("Failed", false), List.of(
                exited(0, FailureReason.INTERRUPTED.exitCode(), "Error", null),
                exited(3, FailureReason.OUT_OF_MEMORY.exitCode(), "Error", "CUDA out of memory")), Optional.empty(), 4);
        assertThat(failed.kind()).isEqualTo(GangStatus.Kind.FAILED);
        assertThat(failed.failure().reason()).isEqualTo("OutOfMemory");
        assertThat(failed.failure().permanent()).isTrue();
        assertThat(failed.failure().message()).contains("Worker 3", "exit", "68", "CUDA out of memory");
        assertThat(failed.failure().hint()).contains("batchSize");
    }

    @Test
    void terminationReportNamesTheReasonAndMessage() {
        ProgressReport report = new ProgressReport(1, 3, 1, TrainerState.FAILED, null, List.of(), null, null,
                Failure.of(FailureReason.NAN_LOSS, "loss is NaN at step 812"));
        GangStatus failed = GangObserver.observe(job("Failed", false),
                List.of(exited(0, FailureReason.NAN_LOSS.exitCode(), "Error", TrainerJson.write(report))), Optional.empty(), 1);
        assertThat(failed.failure().reason()).isEqualTo("NanLoss");
        assertThat(failed.failure().message()).contains("step 812");
        assertThat(failed.failure().permanent()).isTrue();
    }

    @Test
    void kernelOomKillIsPermanentAndSigkillIsRetryable() {
        GangStatus oom = GangObserver.observe(job("Failed", false), List.of(exited(0, 137, "OOMKilled", null)), Optional.empty(), 1);
        assertThat(oom.failure().reason()).isEqualTo("OutOfMemory");
        assertThat(oom.failure().permanent()).isTrue();
        GangStatus killed = GangObserver.observe(job("Failed", false), List.of(exited(0, 137, "Error", null)), Optional.empty(), 1);
        assertThat(killed.failure().reason()).isEqualTo("Killed");
        assertThat(killed.failure().permanent()).isFalse();
    }

    /** A full output volume is permanent: a restart cannot free space, so the job fails at once with the hint. */
    @Test
    void aFullOutputVolumeIsPermanent() {
        ProgressReport full = new ProgressReport(ProgressReport.SCHEMA_VERSION, 12, 1, TrainerState.FAILED, null, List.of(),
                null, null, Failure.of(FailureReason.OUTPUT_VOLUME_FULL,
                        "cannot write the checkpoint at step 40 to checkpoints: No space left on device"));
        GangStatus withReport = GangObserver.observe(job("Failed", false),
                List.of(exited(0, 74, "Error", TrainerJson.write(full.withoutHistory()))), Optional.empty(), 1);
        assertThat(withReport.failure().reason()).isEqualTo("OutputVolumeFull");
        assertThat(withReport.failure().permanent()).isTrue();
        assertThat(withReport.failure().message()).contains("No space left on device");
        assertThat(withReport.failure().hint()).startsWith("The output volume is full: free space on it or move the job "
                + "to a larger PersistentVolumeClaim");
        // the exit code alone (termination message lost) says the same
        GangStatus byCode = GangObserver.observe(job("Failed", false), List.of(exited(0, 74, "Error", null)),
                Optional.empty(), 1);
        assertThat(byCode.failure().reason()).isEqualTo("OutputVolumeFull");
        assertThat(byCode.failure().permanent()).isTrue();
    }

    /** The hint quotes the trainer's estimate against the container's limit and names a limit to request. */
    @Test
    void anOomKilledWorkerFailsWithTheTrainersMemoryEstimateAgainstItsLimit() {
        Pod oom = new PodBuilder(exited(0, 137, "OOMKilled", null)).editOrNewSpec().addNewContainer().withName("sidecar")
                .endContainer().addNewContainer().withName("trainer").withNewResources()
                .addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("4Gi")).endResources().endContainer()
                .endSpec().build();
        MemoryEstimate estimate = new MemoryEstimate((long) (5.3 * (1L << 30)), "weights 1.1 GiB (16-bit) + activations 3.2 GiB");
        ProgressReport training = new ProgressReport(ProgressReport.SCHEMA_VERSION, 9, 1, TrainerState.TRAINING, null,
                List.of(), null, null, null, estimate, null);
        GangStatus status = GangObserver.observe(job("Failed", false), List.of(oom), Optional.of(training), 1);
        WorkerFailure f = status.failure();
        assertThat(f.reason()).isEqualTo("OutOfMemory");
        assertThat(f.permanent()).isTrue();
        assertThat(f.message()).isEqualTo("Worker 0 (pod j-attempt-1-0) was killed for exceeding its memory limit of 4Gi (OOMKilled).");
        assertThat(f.hint()).startsWith("The run needs about 5.3 GiB per worker (the trainer's estimate: weights 1.1 GiB "
                        + "(16-bit) + activations 3.2 GiB) and the limit is 4Gi: set spec.resources.memory to 6Gi or more, or ")
                .contains("training.gradientCheckpointing: true");

        // killed while loading, before any estimate: the limit is below the weights
        GangStatus early = GangObserver.observe(job("Failed", false), List.of(oom), Optional.empty(), 1);
        assertThat(early.failure().hint()).startsWith("The worker was killed before the trainer had loaded the model and "
                + "estimated its memory, so the limit of 4Gi is below the model's weights plus the runtime");
    }

    @Test
    void evictionIsRetryableAndUnknownExitCodesCarryTheLogTail() {
        Pod evicted = pod(0).withNewStatus().withPhase("Failed").withReason("Evicted").withMessage("node low on memory").endStatus().build();
        GangStatus e = GangObserver.observe(job(null, false), List.of(evicted), Optional.empty(), 1);
        assertThat(e.failure().reason()).isEqualTo("Evicted");
        assertThat(e.failure().permanent()).isFalse();
        GangStatus unknown = GangObserver.observe(job("Failed", false),
                List.of(exited(1, 1, "Error", "Exception in thread main java.lang.IllegalStateException: x")), Optional.empty(), 2);
        assertThat(unknown.failure().reason()).isEqualTo("WorkerFailed");
        assertThat(unknown.failure().message()).contains("exited with code 1", "IllegalStateException");
    }

    @Test
    void failedJobWithoutPodsIsRetryable() {
        GangStatus failed = GangObserver.observe(job("Failed", false), List.of(), Optional.empty(), 2);
        assertThat(failed.failure().reason()).isEqualTo("WorkersFailed");
        assertThat(failed.failure().permanent()).isFalse();
    }

    @Test
    void aPreemptedGangStoppingAfterItsCheckpointIsQueuedNotFailed() {
        Pod interrupted = exited(0, FailureReason.INTERRUPTED.exitCode(), "Error", null);

        GangStatus status = GangObserver.observe(job(null, true), List.of(interrupted, ready(1)), Optional.empty(), 2);

        assertThat(status.kind()).isEqualTo(GangStatus.Kind.QUEUED);
        assertThat(status.failure()).isNull();
    }

    @Test
    void aSuspendedJobThatFailedAnywayIsAFailure() {
        Pod killed = exited(0, 137, "Error", null);

        GangStatus status = GangObserver.observe(job("Failed", true), List.of(killed), Optional.empty(), 2);

        assertThat(status.kind()).isEqualTo(GangStatus.Kind.FAILED);
        assertThat(status.failure().reason()).isEqualTo("Killed");
        assertThat(status.failure().permanent()).isFalse();
    }

    @Test
    void podsOfAnEarlierAdmissionAreNoLongerTheGang() {
        Pod preempted = new PodBuilder(exited(0, FailureReason.INTERRUPTED.exitCode(), "Error", null)).editMetadata()
                .withCreationTimestamp("2026-03-01T11:00:00Z").endMetadata().build();
        Pod rerun0 = new PodBuilder(ready(0)).editMetadata().withName("j-attempt-1-0-b")
                .withCreationTimestamp("2026-03-01T12:00:00Z").endMetadata().build();
        Pod rerun1 = new PodBuilder(ready(1)).editMetadata().withCreationTimestamp("2026-03-01T12:00:01Z").endMetadata().build();
        Job readmitted = new JobBuilder(job(null, false)).withNewStatus().withStartTime("2026-03-01T12:00:00Z").endStatus().build();

        assertThat(GangObserver.ofThisAdmission(readmitted, List.of(preempted, rerun0, rerun1))).containsExactly(rerun0, rerun1);
        GangStatus status = GangObserver.observe(readmitted, List.of(preempted, rerun0, rerun1), Optional.empty(), 2);
        assertThat(status.kind()).isEqualTo(GangStatus.Kind.RUNNING);
        assertThat(status.readyWorkers()).isEqualTo(2);
    }

    @Test
    void aLivePodCreatedBeforeAStartTimeWrittenLateIsStillTheGang() {
        // the Job controller created the pods, then wrote startTime in a later sync (its status update conflicted)
        Pod worker0 = new PodBuilder(ready(0)).editMetadata().withCreationTimestamp("2026-03-01T11:59:58Z").endMetadata().build();
        Pod worker1 = new PodBuilder(ready(1)).editMetadata().withCreationTimestamp("2026-03-01T11:59:59Z").endMetadata().build();
        Pod leaving = new PodBuilder(ready(1)).editMetadata().withName("j-attempt-1-1-old")
                .withCreationTimestamp("2026-03-01T11:00:00Z").withDeletionTimestamp("2026-03-01T11:30:00Z").endMetadata().build();
        Job lateStart = new JobBuilder(job(null, false)).withNewStatus().withStartTime("2026-03-01T12:00:00Z").endStatus().build();

        assertThat(GangObserver.ofThisAdmission(lateStart, List.of(leaving, worker0, worker1))).containsExactly(worker0, worker1);
        GangStatus status = GangObserver.observe(lateStart, List.of(leaving, worker0, worker1), Optional.empty(), 2);
        assertThat(status.kind()).isEqualTo(GangStatus.Kind.RUNNING);
        assertThat(status.readyWorkers()).isEqualTo(2);
    }
}
