package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.trainer.TrainerWarning;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.Annotations;
import dev.finetune.operator.children.Names;
import dev.finetune.operator.status.ConditionType;
import dev.finetune.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The job's life against the mock API server, with the test playing kubelet, Job controller and rank 0. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class LifecycleTest extends OnMockApiServer {

    private FineTuneJob start(String ns, String name, Consumer<FineTuneJob> customize) {
        cluster.boundClaims(ns, "models", "data", "outputs");
        FineTuneJob job = Fixtures.job(ns, name);
        customize.accept(job);
        cluster.create(job);
        cluster.awaitWorkerJob(ns, name, 1);
        return cluster.await(ns, name, j -> phase(j) == Phase.Initializing);
    }

    /** {@link #start} job "run", then both workers of attempt 1 running. */
    private void startRunning(String ns, Consumer<FineTuneJob> customize) {
        start(ns, "run", customize);
        cluster.runWorkers(ns, "run", 1, 2);
    }

    /**
     * {@link #startRunning} job "run", then rank 0's report number {@code sequence}: epoch 1 evaluated at step 100
     * ({@code trainLoss}, {@code evalLoss}) and a checkpoint at {@code checkpointStep}; returns once the job is Training.
     */
    private void startTraining(String ns, long sequence, long checkpointStep, double trainLoss, double evalLoss) {
        startRunning(ns, j -> { });
        cluster.report(ns, "run", Fixtures.report(1, sequence, TrainerState.TRAINING, 1, checkpointStep, evalLoss,
                List.of(Fixtures.eval(1, 100, trainLoss, evalLoss)), Fixtures.checkpoint(1, checkpointStep)));
        cluster.await(ns, "run", j -> phase(j) == Phase.Training);
    }

    static Phase phase(FineTuneJob job) {
        return job.getStatus() == null ? null : job.getStatus().getPhase();
    }

    static Condition condition(FineTuneJob job, String type) {
        return Conditions.find(job.getStatus().getConditions(), type).orElseThrow();
    }

    private List<Event> events(String ns, String reason) {
        return client.v1().events().inNamespace(ns).list().getItems().stream().filter(e -> reason.equals(e.getReason())).toList();
    }

    @Test
    void progressReportsReachStatusHistoryAndEvents() {
        String ns = "progress";
        startRunning(ns, j -> { });
        FineTuneJob job = cluster.await(ns, "run", j -> Conditions.isTrue(j.getStatus().getConditions(), ConditionType.WORKERS_READY));
        assertThat(job.getStatus().getPhase()).isEqualTo(Phase.Initializing);

        cluster.report(ns, "run", Fixtures.report(1, 7, TrainerState.TRAINING, 1, 100, 2.5731234,
                List.of(Fixtures.eval(1, 100, 2.9, 2.5731234)), Fixtures.checkpoint(1, 100)));
        job = cluster.await(ns, "run", j -> phase(j) == Phase.Training);
        assertThat(job.getStatus().getProgress().getStep()).isEqualTo(100L);
        assertThat(job.getStatus().getHistory()).hasSize(1);
        assertThat(job.getStatus().getHistory().get(0).evalLoss()).isEqualTo(2.5731234);
        assertThat(job.getStatus().getLastCheckpoint().path()).isEqualTo("runs/ckpt/step-100");
        assertThat(job.getStatus().getDisplay().getEpoch()).isEqualTo("1/3");
        assertThat(job.getStatus().getDisplay().getStep()).isEqualTo("100/300");
        assertThat(job.getStatus().getDisplay().getEvalLoss()).isEqualTo("2.573");
        assertThat(job.getStatus().getDisplay().getPerplexity()).isEqualTo("13.11");
        assertThat(job.getStatus().getDisplay().getEta()).isEqualTo("1h12m");
        assertThat(condition(job, ConditionType.READY).getStatus()).isEqualTo("True");
        assertThat(condition(job, ConditionType.TRAINING).getReason()).isEqualTo("Training");
        assertThat(condition(job, ConditionType.CHECKPOINTED).getStatus()).isEqualTo("True");
        assertThat(job.getStatus().getObservedGeneration()).isEqualTo(job.getMetadata().getGeneration());

        // The same report again (a retried PATCH) adds no history and no second event.
        cluster.report(ns, "run", Fixtures.report(1, 8, TrainerState.TRAINING, 1, 120, 2.5731234,
                List.of(Fixtures.eval(1, 100, 2.9, 2.5731234)), Fixtures.checkpoint(1, 100)));
        cluster.await(ns, "run", j -> j.getStatus().getProgress().getStep() == 120L);
        assertThat(events(ns, "Evaluated")).hasSize(1);
        assertThat(events(ns, "Evaluated").get(0).getMessage()).contains("eval loss 2.573", "perplexity 13.11");
        assertThat(events(ns, "CheckpointSaved")).hasSize(1);
        assertThat(events(ns, "WorkersStarted")).hasSize(1);
    }

    @Test
    void theInitializersBytesDoneReachStatusAndTheWorkersReadyMessage() {
        String ns = "downloading";
        String source = "hf://Qwen/Qwen3-0.6B@main";
        start(ns, "run", j -> j.getSpec().getModel().setSource(source));
        cluster.initializeWorkers(ns, "run", 1, 2);
        cluster.initializerReport(ns, "run", ProgressReport.downloading(4, 1,
                List.of(new SourceDownload("model", source, 412_000_000L, 1_503_238_553L, "2026-01-01T00:00:10Z"))));

        FineTuneJob downloading = cluster.await(ns, "run", j -> j.getStatus().getDownloads() != null
                && condition(j, ConditionType.WORKERS_READY).getMessage().contains("412 MB"));

        assertThat(downloading.getStatus().getPhase()).isEqualTo(Phase.Initializing);
        Condition workers = condition(downloading, ConditionType.WORKERS_READY);
        assertThat(workers.getReason()).isEqualTo("Downloading");
        assertThat(workers.getMessage())
                .isEqualTo("Pod run-attempt-1-0-abcde: downloading model " + source + ": 412 MB of 1.50 GB (27%).");
        assertThat(condition(downloading, "Ready").getMessage()).isEqualTo(workers.getMessage());
        assertThat(downloading.getStatus().getDownloads()).singleElement().satisfies(d -> {
            assertThat(d.bytesDone()).isEqualTo(412_000_000L);
            assertThat(d.bytesTotal()).isEqualTo(1_503_238_553L);
        });

        // the download ends, training starts: the trainer's reports leave the downloads as the initializer last said
        cluster.initializerReport(ns, "run", ProgressReport.downloading(9, 1,
                List.of(new SourceDownload("model", source, 1_503_238_553L, 1_503_238_553L, "2026-01-01T00:01:10Z"))));
        cluster.runWorkers(ns, "run", 1, 2);
        cluster.report(ns, "run", Fixtures.report(1, 1, TrainerState.TRAINING, 1, 100, 2.5,
                List.of(Fixtures.eval(1, 100, 2.7, 2.5)), Fixtures.checkpoint(1, 100)));
        FineTuneJob training = cluster.await(ns, "run", j -> phase(j) == Phase.Training);
        assertThat(training.getStatus().getDownloads()).singleElement()
                .satisfies(d -> assertThat(d.bytesDone()).isEqualTo(d.bytesTotal()).isEqualTo(1_503_238_553L));
        assertThat(training.getStatus().getProgress().getEvalLoss()).isEqualTo(2.5);
    }

    @Test
    void retryableFailureRestartsTheGangFromTheLastCheckpoint() {
        String ns = "retry";
        startTraining(ns, 3, 100, 2.2, 2.0);
        String firstTransition = condition(cluster.get(ns, "run"), ConditionType.VALIDATED).getLastTransitionTime();

        cluster.exitWorker(ns, "run", 1, 1, FailureReason.COMMUNICATION.exitCode(), "Error", "NCCL timeout on rank 5");
        cluster.finishWorkerJob(ns, "run", 1, "Failed");

        Job second = cluster.awaitWorkerJob(ns, "run", 2);
        assertThat(second.getMetadata().getAnnotations()).containsEntry(Annotations.RESUME_FROM, "runs/ckpt/step-100")
                .containsEntry(Annotations.RESTARTS, "1");
        FineTuneJob job = cluster.await(ns, "run", j -> j.getStatus().getAttempt() == 2);
        assertThat(job.getStatus().getRestarts()).isEqualTo(1);
        assertThat(job.getStatus().getPhase()).isEqualTo(Phase.Initializing);
        Condition failed = condition(job, ConditionType.FAILED);
        assertThat(failed.getStatus()).isEqualTo("False");
        assertThat(failed.getReason()).isEqualTo("Restarted");
        assertThat(failed.getMessage()).contains("Communication", "attempt 2", "runs/ckpt/step-100")
                .contains("NCCL timeout on rank 5. Restarted the gang"); // two sentences, not one run-on
        assertThat(condition(job, ConditionType.VALIDATED).getLastTransitionTime()).isEqualTo(firstTransition);
        SimulatedCluster.awaitGone(() -> cluster.workerJob(ns, "run", 1));

        TrainerConfig config = TrainerJson.read(client.configMaps().inNamespace(ns).withName(Names.configMap("run")).get()
                .getData().get(TrainerConfigs.CONFIG_KEY), TrainerConfig.class);
        assertThat(config.attempt()).isEqualTo(2);
        assertThat(config.resumeFrom()).isEqualTo("runs/ckpt/step-100");
        assertThat(config.distributed().rendezvousHost()).startsWith("run-attempt-2-0.run-workers.");
        assertThat(events(ns, "Restarted")).hasSize(1);
    }

    @Test
    void permanentFailureFailsAtOnceWithHintAndIsFinal() {
        String ns = "permanent";
        startRunning(ns, j -> { });
        ProgressReport failed = new ProgressReport(1, 9, 1, TrainerState.FAILED, null, List.of(), null, null,
                Failure.of(FailureReason.BAD_DATA, "record 17 of train.jsonl has no 'output' field"));
        // Rank 0 reports BadData and exits 65; rank 1 is torn down by the Job controller (143).
        cluster.exitWorker(ns, "run", 1, 0, FailureReason.BAD_DATA.exitCode(), "Error", TrainerJson.write(failed.withoutHistory()));
        cluster.exitWorker(ns, "run", 1, 1, 143, "Error", "terminated");
        cluster.finishWorkerJob(ns, "run", 1, "Failed");

        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Failed);
        Condition condition = condition(job, ConditionType.FAILED);
        assertThat(condition.getStatus()).isEqualTo("True");
        assertThat(condition.getReason()).isEqualTo("BadData");
        assertThat(condition.getMessage()).contains("record 17", "Hint:", "skipInvalidRecords");
        assertThat(condition(job, ConditionType.STALLED).getStatus()).isEqualTo("True");
        assertThat(condition(job, ConditionType.SUCCEEDED).getStatus()).isEqualTo("False");
        assertThat(job.getStatus().getCompletionTime()).isNotNull();
        assertThat(job.getStatus().getRestarts()).isZero();

        // Terminal is final: deleting children and poking the job recreates nothing.
        client.batch().v1().jobs().inNamespace(ns).withName(Names.workerJob("run", 1)).delete();
        client.configMaps().inNamespace(ns).withName(Names.configMap("run")).delete();
        client.resources(FineTuneJob.class).inNamespace(ns).withName("run").edit(j -> {
            j.getSpec().setBackoffLimit(5);
            return j;
        });
        cluster.await(ns, "run", j -> j.getStatus().getObservedGeneration() >= 2);
        assertThat(cluster.workerJob(ns, "run", 1)).isNull();
        assertThat(cluster.workerJob(ns, "run", 2)).isNull();
        assertThat(client.configMaps().inNamespace(ns).withName(Names.configMap("run")).get()).isNull();
        assertThat(cluster.get(ns, "run").getStatus().getPhase()).isEqualTo(Phase.Failed);
    }

    /** Issue 18: a checkpoint the trainer skipped as corrupt is one Warning Event, however often it reports it. */
    @Test
    void aCorruptCheckpointTheTrainerSkippedIsOneWarningEvent() {
        String ns = "corrupt-checkpoint";
        startRunning(ns, j -> { });
        List<TrainerWarning> warnings = List.of(new TrainerWarning(TrainerWarning.CHECKPOINT_CORRUPT, "checkpoint "
                + "checkpoints/checkpoint-200 is corrupt: adapter_model.safetensors (100 bytes) does not match its SHA-256 "
                + "in checksums.sha256 (truncated or overwritten since it was written); resuming from "
                + "checkpoints/checkpoint-100 instead"));
        for (long sequence = 3; sequence <= 4; sequence++) {
            long seq = sequence;
            cluster.report(ns, "run", new ProgressReport(1, seq, 1, TrainerState.TRAINING, null, List.of(), null, null, null,
                    null, warnings));
            cluster.await(ns, "run", j -> phase(j) == Phase.Training && !events(ns, "CheckpointCorrupt").isEmpty());
        }
        List<Event> corrupt = events(ns, "CheckpointCorrupt");
        assertThat(corrupt).hasSize(1);
        assertThat(corrupt.get(0).getType()).isEqualTo("Warning");
        assertThat(corrupt.get(0).getMessage()).startsWith("checkpoint checkpoints/checkpoint-200 is corrupt: ")
                .endsWith("resuming from checkpoints/checkpoint-100 instead");
    }

    /** Issue 18: a worker killed for its memory limit fails the job at once, quoting the trainer's estimate. */
    @Test
    void anOomKilledWorkerFailsTheJobWithTheMemoryEstimateAndNoRestart() {
        String ns = "oom-killed";
        startRunning(ns, j -> { });
        cluster.report(ns, "run", new ProgressReport(1, 5, 1, TrainerState.TRAINING, null, List.of(), null, null, null,
                new MemoryEstimate(6L << 30, "weights 1.1 GiB (16-bit) + activations 4.1 GiB"), null));
        cluster.await(ns, "run", j -> phase(j) == Phase.Training);
        cluster.exitWorker(ns, "run", 1, 0, 137, "OOMKilled", null);
        cluster.exitWorker(ns, "run", 1, 1, 143, "Error", "terminated");
        cluster.finishWorkerJob(ns, "run", 1, "Failed");

        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Failed);
        Condition failed = condition(job, ConditionType.FAILED);
        assertThat(failed.getReason()).isEqualTo("OutOfMemory");
        assertThat(failed.getMessage()).contains("was killed for exceeding its memory limit", "(OOMKilled)",
                "Hint: The run needs about 6.0 GiB per worker (the trainer's estimate: weights 1.1 GiB",
                "set spec.resources.memory to 6Gi or more");
        assertThat(job.getStatus().getRestarts()).isZero();
        assertThat(cluster.workerJob(ns, "run", 2)).isNull();
    }

    @Test
    void backoffLimitExhaustionFailsTheJob() {
        String ns = "backoff";
        startRunning(ns, j -> j.getSpec().setBackoffLimit(1));
        cluster.exitWorker(ns, "run", 1, 0, FailureReason.INTERNAL.exitCode(), "Error", "boom");
        cluster.finishWorkerJob(ns, "run", 1, "Failed");
        cluster.awaitWorkerJob(ns, "run", 2);
        cluster.runWorkers(ns, "run", 2, 2);
        cluster.exitWorker(ns, "run", 2, 1, 137, "Error", null);
        cluster.finishWorkerJob(ns, "run", 2, "Failed");

        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Failed);
        assertThat(condition(job, ConditionType.FAILED).getReason()).isEqualTo("BackoffLimitExceeded");
        assertThat(condition(job, ConditionType.FAILED).getMessage()).contains("spec.backoffLimit (1)", "Killed");
        assertThat(job.getStatus().getRestarts()).isEqualTo(1);
        assertThat(cluster.workerJob(ns, "run", 3)).isNull();
    }

    @Test
    void successCompletesAndTtlDeletesTheJob() {
        String ns = "success";
        startRunning(ns, j -> j.getSpec().setTtlSecondsAfterFinished(2));
        ProgressReport done = Fixtures.report(1, 40, TrainerState.SUCCEEDED, 3, 300, 1.5,
                List.of(Fixtures.eval(1, 100, 2.0, 1.9), Fixtures.eval(2, 200, 1.8, 1.6), Fixtures.eval(3, 300, 1.6, 1.5)),
                Fixtures.checkpoint(3, 300));
        cluster.report(ns, "run", done);
        cluster.exitWorker(ns, "run", 1, 0, 0, "Completed", TrainerJson.write(done.withoutHistory()));
        cluster.exitWorker(ns, "run", 1, 1, 0, "Completed", null);
        cluster.finishWorkerJob(ns, "run", 1, "Complete");

        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Succeeded);
        assertThat(condition(job, ConditionType.SUCCEEDED).getStatus()).isEqualTo("True");
        assertThat(condition(job, ConditionType.READY).getStatus()).isEqualTo("True");
        assertThat(condition(job, ConditionType.RECONCILING).getStatus()).isEqualTo("False");
        assertThat(job.getStatus().getHistory()).hasSize(3);
        assertThat(job.getStatus().getDisplay().getEpoch()).isEqualTo("3/3");
        assertThat(job.getStatus().getDisplay().getEta()).isNull();
        assertThat(events(ns, "Succeeded")).hasSize(1);

        SimulatedCluster.awaitGone(() -> cluster.get(ns, "run"));
    }

    @Test
    void suspendStopsWorkersAndResumeContinuesFromTheCheckpoint() {
        String ns = "suspend";
        startTraining(ns, 5, 150, 2.3, 2.1);

        client.resources(FineTuneJob.class).inNamespace(ns).withName("run").edit(j -> {
            j.getSpec().setSuspend(true);
            return j;
        });
        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Suspended);
        SimulatedCluster.awaitGone(() -> cluster.workerJob(ns, "run", 1));
        assertThat(condition(job, ConditionType.SUSPENDED).getStatus()).isEqualTo("True");
        assertThat(condition(job, ConditionType.READY).getStatus()).isEqualTo("True");
        assertThat(job.getStatus().getHistory()).hasSize(1);
        assertThat(job.getStatus().getLastCheckpoint().step()).isEqualTo(150);

        client.resources(FineTuneJob.class).inNamespace(ns).withName("run").edit(j -> {
            j.getSpec().setSuspend(false);
            return j;
        });
        Job resumed = cluster.awaitWorkerJob(ns, "run", 2);
        assertThat(resumed.getMetadata().getAnnotations()).containsEntry(Annotations.RESUME_FROM, "runs/ckpt/step-150")
                .containsEntry(Annotations.START_REASON, "Resumed").containsEntry(Annotations.RESTARTS, "0");
        job = cluster.await(ns, "run", j -> phase(j) == Phase.Initializing && j.getStatus().getAttempt() == 2);
        assertThat(job.getStatus().getRestarts()).isZero();
        assertThat(condition(job, ConditionType.SUSPENDED).getStatus()).isEqualTo("False");
    }

    @Test
    void missingClaimIsReportedByNameAndTheJobStartsOnceItIsBound() {
        String ns = "claims";
        cluster.boundClaims(ns, "models", "outputs");
        cluster.create(Fixtures.job(ns, "run"));
        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Pending);
        Condition validated = condition(job, ConditionType.VALIDATED);
        assertThat(validated.getStatus()).isEqualTo("False");
        assertThat(validated.getReason()).isEqualTo("PvcNotFound");
        assertThat(validated.getMessage()).contains("\"data\"", "spec.dataset.pvc.claimName");
        assertThat(condition(job, ConditionType.STALLED).getStatus()).isEqualTo("True");
        assertThat(cluster.workerJob(ns, "run", 1)).isNull();

        client.persistentVolumeClaims().inNamespace(ns).resource(Fixtures.pvc(ns, "data", "Pending")).create();
        job = cluster.await(ns, "run", j -> "PvcNotBound".equals(condition(j, ConditionType.VALIDATED).getReason()));
        assertThat(condition(job, ConditionType.RECONCILING).getStatus()).isEqualTo("True");

        cluster.boundClaims(ns, "data");
        cluster.awaitWorkerJob(ns, "run", 1);
        job = cluster.await(ns, "run", j -> phase(j) == Phase.Initializing);
        assertThat(condition(job, ConditionType.VALIDATED).getStatus()).isEqualTo("True");
    }

    @Test
    void secondJobWritingTheSameOutputPathWaits() {
        String ns = "shared";
        FineTuneJob first = start(ns, "first", j -> { });
        FineTuneJob second = Fixtures.job(ns, "second");
        second.getSpec().getOutput().getPvc().setPath(first.getSpec().getOutput().getPvc().getPath() + "/sub");
        cluster.create(second);
        FineTuneJob job = cluster.await(ns, "second", j -> phase(j) == Phase.Pending);
        assertThat(condition(job, ConditionType.VALIDATED).getReason()).isEqualTo("OutputPathInUse");
        assertThat(condition(job, ConditionType.VALIDATED).getMessage()).contains("\"first\"");
        assertThat(cluster.workerJob(ns, "second", 1)).isNull();
    }

    @Test
    void activeDeadlineStopsTheWorkers() {
        String ns = "deadline";
        startRunning(ns, j -> j.getSpec().setActiveDeadlineSeconds(2L));
        FineTuneJob job = cluster.await(ns, "run", j -> phase(j) == Phase.Failed);
        assertThat(condition(job, ConditionType.FAILED).getReason()).isEqualTo("DeadlineExceeded");
        SimulatedCluster.awaitGone(() -> cluster.workerJob(ns, "run", 1));
    }

    @Test
    void kueueQueueLabelIsPropagatedAndTheGangWaitsSuspended() {
        String ns = "kueue";
        cluster.boundClaims(ns, "models", "data", "outputs");
        FineTuneJob job = Fixtures.job(ns, "run");
        job.getMetadata().setLabels(java.util.Map.of("kueue.x-k8s.io/queue-name", "gpu-queue"));
        cluster.create(job);
        Job workers = cluster.awaitWorkerJob(ns, "run", 1);
        assertThat(workers.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", "gpu-queue");
        assertThat(workers.getSpec().getSuspend()).isTrue();
        FineTuneJob queued = cluster.await(ns, "run", j -> phase(j) == Phase.Queued);
        assertThat(condition(queued, ConditionType.WORKERS_READY).getReason()).isEqualTo("Queued");
        assertThat(condition(queued, ConditionType.WORKERS_READY).getMessage())
                .isEqualTo("Queued in LocalQueue gpu-queue: waiting for Kueue to admit the whole gang.");
    }

    @Test
    void kueuesPreemptionQueuesTheGangAgainWithKueuesReasonAndCountsNoRestart() {
        String ns = "kueue-preempt";
        cluster.boundClaims(ns, "models", "data", "outputs");
        FineTuneJob job = Fixtures.job(ns, "run");
        job.getMetadata().setLabels(java.util.Map.of("kueue.x-k8s.io/queue-name", "team-a"));
        cluster.create(job);
        cluster.awaitWorkerJob(ns, "run", 1);
        cluster.await(ns, "run", j -> phase(j) == Phase.Queued);

        cluster.kueueAdmits(ns, "run", 1);
        cluster.runWorkers(ns, "run", 1, 2);
        cluster.report(ns, "run", Fixtures.report(1, 3, TrainerState.TRAINING, 1, 40, 2.5,
                List.of(Fixtures.eval(1, 40, 2.7, 2.5)), Fixtures.checkpoint(1, 40)));
        cluster.await(ns, "run", j -> phase(j) == Phase.Training);

        // Kueue preempts: it suspends the Job and the Workload says why; the trainers checkpoint and exit 143
        cluster.kueueWorkload(ns, "run", 1, "Preempted to accommodate a workload (UID: u) due to prioritization in the ClusterQueue",
                "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default-flavor, 1 more needed");
        cluster.kueueSuspends(ns, "run", 1);
        cluster.exitWorker(ns, "run", 1, 0, FailureReason.INTERRUPTED.exitCode(), "Error", null);
        cluster.exitWorker(ns, "run", 1, 1, FailureReason.INTERRUPTED.exitCode(), "Error", null);

        FineTuneJob preempted = cluster.await(ns, "run", j -> phase(j) == Phase.Queued
                && condition(j, ConditionType.WORKERS_READY).getMessage().contains("insufficient unused quota"));
        assertThat(condition(preempted, ConditionType.WORKERS_READY).getReason()).isEqualTo("Preempted");
        assertThat(condition(preempted, ConditionType.WORKERS_READY).getMessage())
                .startsWith("Preempted by Kueue (Preempted to accommodate a workload")
                .contains("queued in LocalQueue team-a again");
        assertThat(preempted.getStatus().getRestarts()).isZero();
        assertThat(preempted.getStatus().getAttempt()).isEqualTo(1);
        assertThat(condition(preempted, ConditionType.FAILED).getStatus()).isEqualTo("False");
        assertThat(cluster.workerJob(ns, "run", 2)).as("no new attempt: the same Job waits").isNull();
        assertThat(events(ns, "Preempted")).hasSize(1);
        assertThat(events(ns, "Restarted")).isEmpty();
    }

    /** Issue 14: a restart request (Argo CD's restart action) is a new attempt from the checkpoint, not a failure. */
    @Test
    void aRestartRequestStartsANewAttemptFromTheCheckpointWithoutCountingAgainstBackoff() {
        String ns = "restart-request";
        startRunning(ns, j -> j.getSpec().setBackoffLimit(0));
        cluster.report(ns, "run", Fixtures.report(1, 5, TrainerState.TRAINING, 1, 150, 2.1,
                List.of(Fixtures.eval(1, 100, 2.3, 2.1)), Fixtures.checkpoint(1, 150)));
        cluster.await(ns, "run", j -> phase(j) == Phase.Training);

        cluster.requestRestart(ns, "run", "2026-12-06T20:15:00Z");
        SimulatedCluster.awaitGone(() -> cluster.workerJob(ns, "run", 1));
        FineTuneJob stopping = cluster.await(ns, "run", j -> "2026-12-06T20:15:00Z".equals(j.getStatus().getLastRestartRequest()));
        assertThat(condition(stopping, ConditionType.TRAINING).getReason()).isEqualTo("RestartRequested");
        assertThat(cluster.workerJob(ns, "run", 2)).as("no second gang while the first one's pods checkpoint").isNull();

        // rank 0's checkpoint on SIGTERM, then the pods are gone
        cluster.report(ns, "run", Fixtures.report(1, 6, TrainerState.CHECKPOINTING, 1, 180, 2.1,
                List.of(Fixtures.eval(1, 100, 2.3, 2.1)), Fixtures.checkpoint(1, 180)));
        cluster.await(ns, "run", j -> j.getStatus().getLastCheckpoint().step() == 180);
        cluster.removeWorkers(ns, "run", 1);
        Job second = cluster.awaitWorkerJob(ns, "run", 2);
        assertThat(second.getMetadata().getAnnotations()).containsEntry(Annotations.RESUME_FROM, "runs/ckpt/step-180")
                .containsEntry(Annotations.START_REASON, "RestartRequested").containsEntry(Annotations.RESTARTS, "0");
        FineTuneJob job = cluster.await(ns, "run", j -> j.getStatus().getAttempt() == 2 && phase(j) == Phase.Initializing);
        assertThat(job.getStatus().getRestarts()).isZero();
        assertThat(condition(job, ConditionType.FAILED).getReason()).isEqualTo("NoFailure");
        assertThat(events(ns, "RestartRequested")).singleElement().satisfies(e -> assertThat(e.getMessage())
                .contains("2026-12-06T20:15:00Z", "stopping the workers of attempt 1", "Not counted against spec.backoffLimit"));
        assertThat(events(ns, "Restarted")).isEmpty();

        // the same request again, with a spec edit to make the operator look: nothing restarts
        cluster.patch(ns, "run", java.util.Map.of("spec", java.util.Map.of("activeDeadlineSeconds", 3600),
                "metadata", java.util.Map.of("annotations", java.util.Map.of(FineTuneJob.RESTART_REQUESTED_AT, "2026-12-06T20:15:00Z"))));
        cluster.await(ns, "run", j -> j.getStatus().getObservedGeneration().equals(j.getMetadata().getGeneration()));
        cluster.runWorkers(ns, "run", 2, 2);
        cluster.await(ns, "run", j -> Conditions.isTrue(j.getStatus().getConditions(), ConditionType.WORKERS_READY));
        assertThat(cluster.workerJob(ns, "run", 2)).isNotNull();
        assertThat(cluster.workerJob(ns, "run", 3)).isNull();
        assertThat(events(ns, "RestartRequested")).hasSize(1);
    }

    @Test
    void aRestartRequestOnAFinishedJobIsIgnoredWithAnEvent() {
        String ns = "restart-finished";
        startRunning(ns, j -> { });
        ProgressReport done = Fixtures.report(1, 40, TrainerState.SUCCEEDED, 3, 300, 1.5,
                List.of(Fixtures.eval(3, 300, 1.6, 1.5)), Fixtures.checkpoint(3, 300));
        cluster.report(ns, "run", done);
        cluster.exitWorker(ns, "run", 1, 0, 0, "Completed", TrainerJson.write(done.withoutHistory()));
        cluster.exitWorker(ns, "run", 1, 1, 0, "Completed", null);
        cluster.finishWorkerJob(ns, "run", 1, "Complete");
        cluster.await(ns, "run", j -> phase(j) == Phase.Succeeded);

        cluster.requestRestart(ns, "run", "2026-12-06T21:00:00Z");
        FineTuneJob job = cluster.await(ns, "run", j -> "2026-12-06T21:00:00Z".equals(j.getStatus().getLastRestartRequest()));
        assertThat(job.getStatus().getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(cluster.workerJob(ns, "run", 1)).as("the finished attempt's Job is kept").isNotNull();
        assertThat(cluster.workerJob(ns, "run", 2)).isNull();
        assertThat(events(ns, "RestartIgnored")).singleElement().satisfies(e -> assertThat(e.getMessage())
                .isEqualTo("The restart requested at 2026-12-06T21:00:00Z was ignored: the job has succeeded, and a finished "
                        + "job never restarts. To train again, create a new FineTuneJob."));
    }

    @Test
    void aRestartRequestThatIsNotATimeIsAWarningAndRestartsNothing() {
        String ns = "restart-invalid";
        startRunning(ns, j -> { });
        cluster.requestRestart(ns, "run", "now");
        cluster.await(ns, "run", j -> "now".equals(j.getStatus().getLastRestartRequest()));
        assertThat(events(ns, "RestartRequestInvalid")).singleElement().satisfies(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getMessage()).contains("is \"now\", not an RFC 3339 time; nothing was restarted");
        });
        assertThat(cluster.workerJob(ns, "run", 1).getMetadata().getDeletionTimestamp()).isNull();
        assertThat(cluster.workerJob(ns, "run", 2)).isNull();
    }
}
