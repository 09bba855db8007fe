package dev.finetune.operator.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.RenderSettings;
import dev.finetune.operator.children.WorkerJobRenderer;
import dev.finetune.operator.status.ConditionType;
import dev.finetune.operator.status.Conditions;
import dev.finetune.operator.validation.ValidationResult;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LifecyclePlannerTest {

    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    static Plan plan(FineTuneJob job, ValidationResult v, List<Job> jobs, List<Pod> pods) {
        return LifecyclePlanner.plan(new Observation(job, NOW, v, jobs, pods, Optional.empty()));
    }

    static Job workerJob(FineTuneJob job, int attempt, Instant deadlineBase, String condition) {
        Job j = WorkerJobRenderer.desired(job, new Attempt(attempt, 0, null, deadlineBase, "Started"),
                Fixtures.renderSettings("t"));
        if (condition != null) {
            j = new JobBuilder(j).withNewStatus().addNewCondition().withType(condition).withStatus("True").endCondition().endStatus().build();
        }
        return j;
    }

    /** Applies a plan's status to the job, as the API server would after the status write. */
    static FineTuneJob after(FineTuneJob job, Plan plan) {
        job.setStatus(plan.status());
        return job;
    }

    @Test
    void aValidNewJobStartsAttemptOne() {
        FineTuneJob job = Fixtures.job("ns", "run");
        Plan plan = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(plan.ensureChildren()).isTrue();
        assertThat(plan.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(1);
            assertThat(a.resumeFrom()).isNull();
            assertThat(a.deadlineBase()).isEqualTo(NOW);
        });
        assertThat(plan.status().getPhase()).isEqualTo(Phase.Initializing);
        assertThat(plan.status().getStartTime()).isEqualTo("2026-03-01T12:00:00Z");
        assertThat(plan.events()).extracting(e -> e.reason()).contains("WorkersStarted");
    }

    @Test
    void anInvalidJobCreatesNothing() {
        FineTuneJob job = Fixtures.job("ns", "run");
        Plan plan = plan(job, ValidationResult.invalid("PvcNotFound", "claim \"data\" missing"), List.of(), List.of());
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.ensureChildren()).isFalse();
        assertThat(plan.status().getPhase()).isEqualTo(Phase.Pending);
        assertThat(Conditions.isTrue(plan.status().getConditions(), ConditionType.STALLED)).isTrue();
        assertThat(Conditions.find(plan.status().getConditions(), ConditionType.READY).orElseThrow().getReason()).isEqualTo("PvcNotFound");
    }

    @Test
    void aStaleStatusNeverStartsAnAttemptTwice() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(1);
        job.getStatus().setPhase(Phase.Training);
        // The cache already has attempt 2 (created last round); the status write of that round is not seen yet.
        Plan plan = plan(job, ValidationResult.ok(), List.of(workerJob(job, 1, NOW, "Failed"), workerJob(job, 2, NOW, null)), List.of());
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.deleteWorkerJobs()).containsExactly("run-attempt-1");
        assertThat(plan.status().getAttempt()).isEqualTo(2);
    }

    @Test
    void terminalJobsAreFinal() {
        FineTuneJob job = Fixtures.job("ns", "run");
        Plan failed = plan(job, ValidationResult.ok(), List.of(), List.of());
        job = after(job, failed);
        job.getStatus().setPhase(Phase.Failed);
        job.getStatus().setCompletionTime(NOW.minusSeconds(30).toString());
        String transition = job.getStatus().getConditions().get(0).getLastTransitionTime();

        Plan again = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(again.launch()).isEmpty();
        assertThat(again.ensureChildren()).isFalse();
        assertThat(again.deleteFineTuneJob()).isFalse();
        assertThat(again.status().getPhase()).isEqualTo(Phase.Failed);
        assertThat(again.status().getConditions().get(0).getLastTransitionTime()).isEqualTo(transition);
    }

    @Test
    void ttlCountsFromCompletion() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getSpec().setTtlSecondsAfterFinished(60);
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setPhase(Phase.Succeeded);
        job.getStatus().setCompletionTime(NOW.minusSeconds(30).toString());
        Plan early = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(early.deleteFineTuneJob()).isFalse();
        assertThat(early.requeueAfter()).contains(Duration.ofSeconds(31));
        job.getStatus().setCompletionTime(NOW.minusSeconds(60).toString());
        assertThat(plan(job, ValidationResult.ok(), List.of(), List.of()).deleteFineTuneJob()).isTrue();
    }

    @Test
    void deadlineCountsFromTheAttemptsDeadlineBase() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getSpec().setActiveDeadlineSeconds(3600L);
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(2);
        job.getStatus().setPhase(Phase.Training);
        Plan running = plan(job, ValidationResult.ok(), List.of(workerJob(job, 2, NOW.minusSeconds(3000), null)), List.of());
        assertThat(running.status().getPhase()).isNotEqualTo(Phase.Failed);
        assertThat(running.requeueAfter()).contains(Duration.ofSeconds(601));
        Plan over = plan(job, ValidationResult.ok(), List.of(workerJob(job, 2, NOW.minusSeconds(3600), null)), List.of());
        assertThat(over.status().getPhase()).isEqualTo(Phase.Failed);
        assertThat(over.deleteWorkerJobs()).containsExactly("run-attempt-2");
        assertThat(Conditions.find(over.status().getConditions(), ConditionType.FAILED).orElseThrow().getReason())
                .isEqualTo("DeadlineExceeded");
    }

    @Test
    void restartWithoutCheckpointStartsOverAndSaysSo() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(1);
        job.getStatus().setPhase(Phase.Initializing);
        Plan plan = plan(job, ValidationResult.ok(), List.of(workerJob(job, 1, NOW, "Failed")), List.of());
        assertThat(plan.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(2);
            assertThat(a.restarts()).isEqualTo(1);
            assertThat(a.resumeFrom()).isNull();
            assertThat(a.deadlineBase()).isEqualTo(NOW);
        });
        assertThat(Conditions.find(plan.status().getConditions(), ConditionType.FAILED).orElseThrow().getMessage())
                .contains("from the beginning (no checkpoint yet)");
    }

    @Test
    void reportsOfAnOlderAttemptUpdateProgressButNotTheState() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(2);
        job.getStatus().setPhase(Phase.Initializing);
        var stale = Fixtures.report(1, 50, TrainerState.TRAINING, 1, 100, 2.0, List.of(Fixtures.eval(1, 100, 2.1, 2.0)),
                Fixtures.checkpoint(1, 100));
        Plan plan = LifecyclePlanner.plan(new Observation(job, NOW, ValidationResult.ok(), List.of(workerJob(job, 2, NOW, null)),
                List.of(), Optional.of(stale)));
        assertThat(plan.status().getHistory()).hasSize(1);
        assertThat(plan.status().getPhase()).isEqualTo(Phase.Initializing);
    }

    @Test
    void aRestartWaitsForValidationAndIsCountedOnceWhenItHappens() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(1);
        job.getStatus().setPhase(Phase.Training);
        Job failed = workerJob(job, 1, NOW, "Failed");
        ValidationResult claimGone = ValidationResult.invalid("PvcNotFound", "claim \"data\" missing");
        Plan waiting = plan(job, claimGone, List.of(failed), List.of());
        assertThat(waiting.launch()).isEmpty();
        assertThat(waiting.deleteWorkerJobs()).containsExactly("run-attempt-1");
        assertThat(waiting.status().getPhase()).isEqualTo(Phase.Pending);
        assertThat(waiting.status().getRestarts()).isZero();
        assertThat(Conditions.find(waiting.status().getConditions(), ConditionType.FAILED).orElseThrow().getReason())
                .isEqualTo("WorkersFailed");

        job = after(job, waiting);
        Plan restarted = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(restarted.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(2);
            assertThat(a.restarts()).isEqualTo(1);
        });
        assertThat(Conditions.find(restarted.status().getConditions(), ConditionType.FAILED).orElseThrow().getMessage())
                .contains("WorkersFailed", "waited until the job was valid again");
    }

    @Test
    void timeQueuedForKueueDoesNotCountAgainstTheDeadline() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getSpec().setActiveDeadlineSeconds(600L);
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(1);
        job.getStatus().setPhase(Phase.Pending);
        Job queued = new JobBuilder(workerJob(job, 1, NOW.minusSeconds(3600), null)).editSpec().withSuspend(true).endSpec().build();
        assertThat(plan(job, ValidationResult.ok(), List.of(queued), List.of()).status().getPhase()).isEqualTo(Phase.Queued);

        Job admitted = new JobBuilder(queued).editSpec().withSuspend(false).endSpec()
                .withNewStatus().withStartTime(NOW.minusSeconds(60).toString()).endStatus().build();
        Plan running = plan(job, ValidationResult.ok(), List.of(admitted), List.of());
        assertThat(running.status().getPhase()).isEqualTo(Phase.Initializing);
        assertThat(running.requeueAfter()).contains(Duration.ofSeconds(541));
    }

    static final String REQUEST = "2026-03-01T11:59:30Z";

    /** A job training attempt {@code attempt} (restarts 1 so far) from checkpoint step 150, restart annotation {@code request}. */
    static FineTuneJob trainingJob(int attempt, String request) {
        FineTuneJob job = Fixtures.job("ns", "run");
        if (request != null) {
            job.getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Map.of(FineTuneJob.RESTART_REQUESTED_AT, request)));
        }
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(attempt);
        job.getStatus().setRestarts(1);
        job.getStatus().setPhase(Phase.Training);
        job.getStatus().setLastCheckpoint(Fixtures.checkpoint(1, 150));
        return job;
    }

    static Pod workerPod(int attempt) {
        return new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("run-attempt-" + attempt + "-0")
                .addToLabels(dev.finetune.operator.children.Labels.ATTEMPT, Integer.toString(attempt)).endMetadata().build();
    }

    @Test
    void aRestartRequestStopsTheGangThenStartsTheNextAttemptOnceItsPodsAreGone() {
        FineTuneJob job = trainingJob(2, REQUEST);
        Plan stop = plan(job, ValidationResult.ok(), List.of(workerJob(job, 2, NOW, null)), List.of(workerPod(2)));
        assertThat(stop.deleteWorkerJobs()).containsExactly("run-attempt-2");
        assertThat(stop.launch()).as("no second gang while the first still writes its checkpoint").isEmpty();
        assertThat(stop.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(stop.status().getPhase()).isEqualTo(Phase.Initializing);
        assertThat(Conditions.find(stop.status().getConditions(), ConditionType.TRAINING).orElseThrow().getReason())
                .isEqualTo("RestartRequested");
        assertThat(stop.events()).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("RestartRequested");
            assertThat(e.message()).contains(REQUEST, "attempt 2", "attempt 3", "Not counted against spec.backoffLimit");
        });

        job = after(job, stop);
        // a round before the informer has seen the delete: the stopped Job is still in the cache, and stays stopped
        Plan lagging = plan(job, ValidationResult.ok(), List.of(workerJob(job, 2, NOW, null)), List.of(workerPod(2)));
        assertThat(lagging.launch()).isEmpty();
        assertThat(lagging.deleteWorkerJobs()).containsExactly("run-attempt-2");
        assertThat(lagging.events()).isEmpty();
        assertThat(Conditions.find(lagging.status().getConditions(), ConditionType.TRAINING).orElseThrow().getReason())
                .isEqualTo("RestartRequested");
        job = after(job, lagging);

        Plan waiting = plan(job, ValidationResult.ok(), List.of(), List.of(workerPod(2)));
        assertThat(waiting.launch()).isEmpty();
        assertThat(waiting.events()).isEmpty();

        Plan next = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(next.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(3);
            assertThat(a.restarts()).as("not counted against backoffLimit").isEqualTo(1);
            assertThat(a.resumeFrom()).isEqualTo("runs/ckpt/step-150");
            assertThat(a.startReason()).isEqualTo("RestartRequested");
        });
        assertThat(next.status().getRestarts()).isEqualTo(1);
        assertThat(next.events()).isEmpty();
        assertThat(Conditions.find(next.status().getConditions(), ConditionType.FAILED).orElseThrow().getReason())
                .isEqualTo("NoFailure");

        job = after(job, next);
        Plan answered = plan(job, ValidationResult.ok(), List.of(workerJob(job, 3, NOW, null)), List.of());
        assertThat(answered.launch()).as("the same request never restarts twice").isEmpty();
        assertThat(answered.deleteWorkerJobs()).isEmpty();
    }

    @Test
    void aRequestWhoseWorkersWereDeletedBeforeTheStatusWasWrittenIsNotAFailure() {
        // The operator deleted attempt 2 for the request and stopped before writing status.lastRestartRequest.
        FineTuneJob job = trainingJob(2, REQUEST);
        Plan plan = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(plan.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(3);
            assertThat(a.restarts()).isEqualTo(1);
            assertThat(a.startReason()).isEqualTo("RestartRequested");
        });
        assertThat(plan.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(plan.events()).extracting(e -> e.reason()).containsExactly("RestartRequested");
    }

    @Test
    void aFinishedOrSuspendedJobIgnoresTheRequestWithOneEventSayingWhy() {
        FineTuneJob done = trainingJob(1, REQUEST);
        done.getStatus().setPhase(Phase.Succeeded);
        Plan finished = plan(done, ValidationResult.ok(), List.of(workerJob(done, 1, NOW, "Complete")), List.of());
        assertThat(finished.launch()).isEmpty();
        assertThat(finished.deleteWorkerJobs()).isEmpty();
        assertThat(finished.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(finished.events()).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("RestartIgnored");
            assertThat(e.message()).contains(REQUEST, "has succeeded", "a finished job never restarts");
        });
        assertThat(plan(after(done, finished), ValidationResult.ok(), List.of(), List.of()).events()).isEmpty();

        FineTuneJob suspended = trainingJob(1, REQUEST);
        suspended.getSpec().setSuspend(true);
        suspended.getStatus().setPhase(Phase.Suspended);
        Plan ignored = plan(suspended, ValidationResult.ok(), List.of(), List.of());
        assertThat(ignored.launch()).isEmpty();
        assertThat(ignored.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(ignored.events()).singleElement().satisfies(e -> assertThat(e.message()).contains("suspended"));
    }

    @Test
    void aRequestThatIsNotATimeRestartsNothingAndSaysHowToAsk() {
        FineTuneJob job = trainingJob(1, "now");
        Plan plan = plan(job, ValidationResult.ok(), List.of(workerJob(job, 1, NOW, null)), List.of(workerPod(1)));
        assertThat(plan.deleteWorkerJobs()).isEmpty();
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.status().getLastRestartRequest()).isEqualTo("now");
        assertThat(plan.events()).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(dev.finetune.operator.events.JobEvent.Type.Warning);
            assertThat(e.reason()).isEqualTo("RestartRequestInvalid");
            assertThat(e.message()).contains("finetune.dev/restart-requested-at is \"now\", not an RFC 3339 time",
                    "kubectl annotate finetunejob run finetune.dev/restart-requested-at=$(date -u +%Y-%m-%dT%H:%M:%SZ) --overwrite");
        });
    }

    @Test
    void aRequestInTheManifestOfANewJobIsAnsweredByItsFirstAttempt() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getMetadata().setAnnotations(java.util.Map.of(FineTuneJob.RESTART_REQUESTED_AT, REQUEST));
        Plan plan = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(plan.launch()).hasValueSatisfying(a -> assertThat(a.number()).isEqualTo(1));
        assertThat(plan.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(plan.events()).extracting(e -> e.reason()).containsExactly("WorkersStarted");
    }

    @Test
    void aRequestedRestartWaitsForValidationAndIsNotCountedWhenItHappens() {
        FineTuneJob job = trainingJob(2, REQUEST);
        Plan stop = plan(job, ValidationResult.ok(), List.of(workerJob(job, 2, NOW, null)), List.of(workerPod(2)));
        job = after(job, stop);
        Plan waiting = plan(job, ValidationResult.invalid("PvcNotFound", "claim \"data\" missing"), List.of(), List.of());
        assertThat(waiting.launch()).isEmpty();
        assertThat(waiting.status().getPhase()).isEqualTo(Phase.Pending);
        assertThat(Conditions.find(waiting.status().getConditions(), ConditionType.TRAINING).orElseThrow().getReason())
                .isEqualTo("RestartRequested");

        job = after(job, waiting);
        Plan restarted = plan(job, ValidationResult.ok(), List.of(), List.of());
        assertThat(restarted.launch()).hasValueSatisfying(a -> {
            assertThat(a.number()).isEqualTo(3);
            assertThat(a.restarts()).isEqualTo(1);
            assertThat(a.startReason()).isEqualTo("RestartRequested");
        });
    }

    @Test
    void aRequestBeforeTheFirstAttemptWhileInvalidIsIgnoredAndTheJobStartsLater() {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getMetadata().setAnnotations(java.util.Map.of(FineTuneJob.RESTART_REQUESTED_AT, REQUEST));
        Plan plan = plan(job, ValidationResult.invalid("PvcNotFound", "claim \"data\" missing"), List.of(), List.of());
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.status().getLastRestartRequest()).isEqualTo(REQUEST);
        assertThat(plan.events()).filteredOn(e -> e.reason().equals("RestartIgnored")).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("has not started", "claim \"data\" missing"));
        Plan started = plan(after(job, plan), ValidationResult.ok(), List.of(), List.of());
        assertThat(started.launch()).hasValueSatisfying(a -> assertThat(a.number()).isEqualTo(1));
    }

    static FineTuneJob queuedJob(Phase phase) {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getMetadata().setLabels(java.util.Map.of("kueue.x-k8s.io/queue-name", "team-a"));
        job.setStatus(new FineTuneJobStatus());
        job.getStatus().setAttempt(1);
        job.getStatus().setPhase(phase);
        return job;
    }

    static Plan planWithWorkload(FineTuneJob job, List<Job> jobs, List<Pod> pods, KueueWorkload workload) {
        return LifecyclePlanner.plan(new Observation(job, NOW, ValidationResult.ok(), jobs, pods, Optional.empty(),
                workload == null ? java.util.Map.of() : java.util.Map.of(jobs.getFirst().getMetadata().getName(), workload)));
    }

    @Test
    void aGangWaitingForKueueIsQueuedWithKueuesReasonAndLooksAgain() {
        FineTuneJob job = queuedJob(Phase.Initializing);
        job.getStatus().setPhase(null);
        Job queued = new JobBuilder(workerJob(job, 1, NOW, null)).editSpec().withSuspend(true).endSpec().build();
        KueueWorkload workload = new KueueWorkload("job-run-attempt-1-abcde", "couldn't assign flavors to pod set main: "
                + "insufficient unused quota for cpu in flavor default-flavor, 400m more needed", null);

        Plan plan = planWithWorkload(job, List.of(queued), List.of(), workload);

        assertThat(plan.status().getPhase()).isEqualTo(Phase.Queued);
        var workers = Conditions.find(plan.status().getConditions(), ConditionType.WORKERS_READY).orElseThrow();
        assertThat(workers.getReason()).isEqualTo("Queued");
        assertThat(workers.getMessage()).isEqualTo("Queued in LocalQueue team-a: couldn't assign flavors to pod set main: "
                + "insufficient unused quota for cpu in flavor default-flavor, 400m more needed.");
        assertThat(Conditions.find(plan.status().getConditions(), ConditionType.READY).orElseThrow().getMessage())
                .isEqualTo(workers.getMessage());
        assertThat(plan.requeueAfter()).contains(LifecyclePlanner.OBSERVE_QUEUE_EVERY);
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.deleteWorkerJobs()).isEmpty();

        Plan unread = planWithWorkload(job, List.of(queued), List.of(), null);
        assertThat(Conditions.find(unread.status().getConditions(), ConditionType.WORKERS_READY).orElseThrow().getMessage())
                .isEqualTo("Queued in LocalQueue team-a: waiting for Kueue to admit the whole gang.");
    }

    @Test
    void aPreemptedGangIsQueuedAgainWithoutARestartAndResumesInTheSameAttempt() {
        FineTuneJob job = queuedJob(Phase.Training);
        job.getStatus().setLastCheckpoint(Fixtures.checkpoint(1, 40));
        Job preempted = new JobBuilder(workerJob(job, 1, NOW, null)).editSpec().withSuspend(true).endSpec().build();
        Pod stopped = GangObserverTest.exited(0, dev.finetune.api.trainer.FailureReason.INTERRUPTED.exitCode(), "Error", null);
        stopped.getMetadata().setLabels(java.util.Map.of("finetune.dev/attempt", "1"));
        KueueWorkload evicted = new KueueWorkload("w", "couldn't assign flavors to pod set main: insufficient unused quota",
                "Preempted to accommodate a workload (UID: u, JobUID: j) due to prioritization in the ClusterQueue");

        Plan plan = planWithWorkload(job, List.of(preempted), List.of(stopped), evicted);

        assertThat(plan.status().getPhase()).isEqualTo(Phase.Queued);
        assertThat(plan.status().getRestarts()).isZero();
        assertThat(plan.status().getAttempt()).isEqualTo(1);
        assertThat(plan.launch()).isEmpty();
        assertThat(plan.deleteWorkerJobs()).isEmpty();
        var workers = Conditions.find(plan.status().getConditions(), ConditionType.WORKERS_READY).orElseThrow();
        assertThat(workers.getReason()).isEqualTo("Preempted");
        assertThat(workers.getMessage()).startsWith("Preempted by Kueue (Preempted to accommodate a workload")
                .contains("queued in LocalQueue team-a again (couldn't assign flavors",
                        "resume from checkpoint " + job.getStatus().getLastCheckpoint().path(), "no restart is counted");
        assertThat(Conditions.find(plan.status().getConditions(), ConditionType.FAILED).orElseThrow().getStatus()).isEqualTo("False");
        assertThat(plan.events()).extracting(e -> e.reason()).containsExactly("Preempted");

        // the next round, still waiting: no second event; without the Workload it still knows it was preempted
        FineTuneJob waiting = after(job, plan);
        Plan again = planWithWorkload(waiting, List.of(preempted), List.of(), null);
        assertThat(again.events()).extracting(e -> e.reason()).doesNotContain("Preempted");
        assertThat(Conditions.find(again.status().getConditions(), ConditionType.WORKERS_READY).orElseThrow().getReason())
                .isEqualTo("Preempted");

        // admitted again: the Job controller starts new pods; the stopped pod of the first admission is not a failure
        Job readmitted = new JobBuilder(preempted).editSpec().withSuspend(false).endSpec()
                .withNewStatus().withStartTime(NOW.toString()).endStatus().build();
        stopped.getMetadata().setCreationTimestamp(NOW.minusSeconds(300).toString());
        Plan resumed = planWithWorkload(after(waiting, again), List.of(readmitted), List.of(stopped), null);
        assertThat(resumed.status().getPhase()).isEqualTo(Phase.Initializing);
        assertThat(resumed.status().getRestarts()).isZero();
        assertThat(resumed.launch()).isEmpty();
        assertThat(resumed.deleteWorkerJobs()).isEmpty();
        assertThat(resumed.events()).extracting(e -> e.reason()).containsExactly("Readmitted");
    }
}
