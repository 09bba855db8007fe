package dev.finetune.operator.lifecycle;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.operator.children.Annotations;
import dev.finetune.operator.children.Labels;
import dev.finetune.operator.events.JobEvent;
import dev.finetune.operator.status.ConditionType;
import dev.finetune.operator.status.Conditions;
import dev.finetune.operator.status.Conditions.Desired;
import dev.finetune.operator.status.ConditionsMapper;
import dev.finetune.operator.status.Displays;
import dev.finetune.operator.status.ProgressMerger;
import dev.finetune.operator.status.Situation;
import dev.finetune.operator.validation.ValidationResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The job's life as a pure function: from what is observed (status so far, worker Jobs, pods, rank 0's report,
 * validation) to what to do (children, a new attempt, deletions, events) and the status to write.
 *
 * <p>Rules: terminal is final (nothing is created or restarted once Succeeded or Failed); a retryable failure
 * restarts the whole gang as a new attempt resuming from the last checkpoint, counted against backoffLimit;
 * a permanent one fails the job; suspend deletes the workers and keeps everything else; resuming starts a new
 * attempt from the last checkpoint without counting a restart. A restart request (a new value of the job's
 * {@link FineTuneJob#RESTART_REQUESTED_AT} annotation) is answered once: a running gang is stopped, and once its
 * pods are gone the next attempt resumes from the last checkpoint, not counted against backoffLimit; a job that
 * has finished, is suspended or has no workers gets an Event saying why nothing restarted.
 */
public final class LifecyclePlanner {

    private static final Set<TrainerState> TRAINING_STATES = Set.of(TrainerState.TRAINING, TrainerState.EVALUATING,
            TrainerState.CHECKPOINTING, TrainerState.SUCCEEDED);

    /** Start reason, and the Training condition's reason while the old workers stop, of a requested restart. */
    static final String RESTART_REQUESTED = "RestartRequested";

    /** When a round that started an attempt looks again. */
    static final Duration OBSERVE_LAUNCH_AFTER = Duration.ofSeconds(1);
    /** How often a gang held by Kueue reads its Workload again (Kueue's reasons change without an event on our side). */
    static final Duration OBSERVE_QUEUE_EVERY = Duration.ofSeconds(15);
    /** WorkersReady's reasons while Kueue holds the gang: never admitted yet, or admitted and then preempted. */
    static final String QUEUED = "Queued";
    static final String PREEMPTED = "Preempted";

    private LifecyclePlanner() {
    }

    public static Plan plan(Observation o) {
        return new Round(o).run();
    }

    /** One planning round; mutable scratch space, discarded afterwards. */
    private static final class Round {
        final Observation o;
        final FineTuneJob job;
        final FineTuneJobSpec spec;
        final FineTuneJobStatus prev;
        final FineTuneJobStatus s;
        final Instant now;
        final long generation;
        /** The restart-requested-at annotation, null when absent or blank. */
        final String restartRequest;
        final List<JobEvent> events = new ArrayList<>();
        final List<String> deletes = new ArrayList<>();
        Optional<Attempt> launch = Optional.empty();
        Optional<Duration> requeue = Optional.empty();
        boolean deleteSelf;
        boolean ensureChildren;
        int attempt;
        Optional<Job> current = Optional.empty();
        List<Pod> currentPods = List.of();
        Optional<ProgressReport> currentReport = Optional.empty();
        List<SourceDownload> currentDownloads = List.of();
        Desired failedCondition;

        Round(Observation o) {
            this.o = o;
            this.job = o.job();
            this.spec = job.getSpec();
            this.prev = job.getStatus() == null ? new FineTuneJobStatus() : job.getStatus();
            this.s = TrainerJson.json().convertValue(prev, FineTuneJobStatus.class);
            this.now = o.now().truncatedTo(ChronoUnit.SECONDS);
            this.generation = job.getMetadata().getGeneration() == null ? 0 : job.getMetadata().getGeneration();
            String requested = job.getMetadata().getAnnotations() == null ? null
                    : job.getMetadata().getAnnotations().get(FineTuneJob.RESTART_REQUESTED_AT);
            this.restartRequest = requested == null || requested.isBlank() ? null : requested.strip();
        }

        Plan run() {
            s.setObservedGeneration(generation);
            locateCurrentAttempt();
            mergeReports();
            Phase prevPhase = prev.getPhase();
            if (prevPhase != null && prevPhase.isTerminal()) {
                return terminal(prevPhase);
            }
            ValidationResult v = o.validation();
            failedCondition = previousFailedCondition();

            Optional<Instant> deadline = deadline();
            if (deadline.isPresent() && !spec.isSuspend() && current.isPresent()) {
                if (!now.isBefore(deadline.get())) {
                    current.ifPresent(j -> deletes.add(j.getMetadata().getName()));
                    return fail(v, "DeadlineExceeded", Messages.deadlineExceeded(spec.getActiveDeadlineSeconds(),
                            deadlineBase().orElse(now)), Messages.DEADLINE_HINT);
                }
                requeue = Optional.of(Duration.between(now, deadline.get()).plusSeconds(1));
            }

            if (restartPending() && !restartRequestIsATime()) {
                answerRestart(JobEvent.warning("RestartRequestInvalid", restartEventKey(),
                        Messages.restartRequestInvalid(restartRequest, job.getMetadata().getName())));
            }
            if (spec.isSuspend()) {
                if (restartPending()) {
                    answerRestart(JobEvent.normal("RestartIgnored", restartEventKey(), Messages.restartIgnoredSuspended(restartRequest)));
                }
                return suspended(v);
            }
            if (current.isPresent() && stoppedForRestart()) {
                // The cache still has the Job the restart deleted (its delete event has not arrived yet): keep stopping.
                deletes.add(current.get().getMetadata().getName());
                return stoppingForRestart(v);
            }
            if (current.isEmpty()) {
                return noWorkers(v, prevPhase);
            }
            ensureChildren = true;
            GangStatus gang = GangObserver.observe(current.get(), currentPods, currentReport, currentDownloads,
                    spec.getResources().getWorkers());
            boolean active = switch (gang.kind()) {
                case QUEUED, STARTING, RUNNING -> true;
                case SUCCEEDED, FAILED -> false;
            };
            if (active && restartPending()) {
                return stopForRestart(v);
            }
            return switch (gang.kind()) {
                case QUEUED -> queued(v);
                case STARTING -> running(v, Phase.Initializing, gang);
                case RUNNING -> running(v, trainerIsTraining() ? Phase.Training : Phase.Initializing, gang);
                case SUCCEEDED -> succeeded(v);
                case FAILED -> gang.failure().permanent()
                        ? fail(v, gang.failure().reason(), Messages.attemptFailed(attempt, gang.failure().message()), gang.failure().hint())
                        : restartOrFail(v, gang.failure());
            };
        }

        // ---- observation helpers ----

        void locateCurrentAttempt() {
            int highest = o.workerJobs().stream().mapToInt(LifecyclePlanner::attemptOf).max().orElse(0);
            attempt = Math.max(prev.getAttempt(), highest);
            // A Job being deleted is no longer the gang: its pods are on their way out.
            current = o.workerJobs().stream()
                    .filter(j -> attemptOf(j) == attempt && j.getMetadata().getDeletionTimestamp() == null)
                    .findFirst();
            for (Job j : o.workerJobs()) {
                if (attemptOf(j) < attempt) {
                    deletes.add(j.getMetadata().getName()); // an older attempt left behind (e.g. the operator stopped mid-restart)
                }
            }
            List<Pod> attemptPods = o.pods().stream().filter(p -> attemptOf(p) == attempt).toList();
            currentPods = current.map(j -> GangObserver.ofThisAdmission(j, attemptPods)).orElse(attemptPods);
            // The status may lag the cache by one round (its write not seen yet): the live Job is the record.
            s.setAttempt(attempt);
            current.map(j -> j.getMetadata().getAnnotations()).map(a -> a.get(Annotations.RESTARTS)).ifPresent(r -> {
                try {
                    s.setRestarts(Math.max(s.getRestarts(), Integer.parseInt(r)));
                } catch (NumberFormatException ignored) {
                    // not ours to fix; status keeps its count
                }
            });
        }

        void mergeReports() {
            List<EpochRecord> before = prev.getHistory() == null ? List.of() : prev.getHistory();
            CheckpointRef checkpointBefore = prev.getLastCheckpoint();
            ProgressReport fromConfigMap = o.report().orElse(null);
            ProgressReport fromTermination = GangObserver.rankZeroTerminationReport(currentPods).orElse(null);
            ProgressMerger.merge(s, fromConfigMap);
            if (fromTermination != null && ProgressMerger.newer(fromConfigMap, fromTermination) == fromTermination) {
                ProgressMerger.merge(s, fromTermination);
            }
            ProgressReport newest = ProgressMerger.newer(fromConfigMap, fromTermination);
            currentReport = Optional.ofNullable(newest).filter(r -> r.attempt() == attempt);
            // the initializer's downloads: its own key, numbered on its own, never compared with the trainer's reports
            Optional<ProgressReport> initializer = o.initializerReport();
            ProgressMerger.merge(s, initializer.orElse(null));
            currentDownloads = initializer.filter(r -> r.attempt() == attempt).map(ProgressReport::downloadList).orElse(List.of());
            // what the trainer worked around (a corrupt checkpoint skipped on resume): once per attempt and reason
            currentReport.ifPresent(r -> r.warningList().forEach(w -> events.add(JobEvent.warning(w.reason(),
                    "trainer-warning/" + attempt + "/" + w.reason(), w.message()))));

            Set<String> seen = new HashSet<>();
            before.forEach(r -> seen.add(r.epoch() + "/" + r.step()));
            for (EpochRecord r : s.getHistory()) {
                if (seen.add(r.epoch() + "/" + r.step()) && r.evalLoss() != null) {
                    events.add(JobEvent.normal("Evaluated", "eval/" + r.epoch() + "/" + r.step(), Messages.evaluated(r)));
                }
            }
            CheckpointRef after = s.getLastCheckpoint();
            if (after != null && (checkpointBefore == null || after.step() != checkpointBefore.step()
                    || !java.util.Objects.equals(after.path(), checkpointBefore.path()))) {
                events.add(JobEvent.normal("CheckpointSaved", "checkpoint/" + after.step() + "/" + after.path(),
                        Messages.checkpointSaved(after)));
            }
        }

        boolean trainerIsTraining() {
            return currentReport.map(r -> TRAINING_STATES.contains(r.state())).orElse(false);
        }

        /**
         * When the deadline clock started: the annotation (first start or resume, carried over by restarts); for an
         * attempt that waited in a queue, when the Job controller actually started it. Empty while queued.
         */
        Optional<Instant> deadlineBase() {
            if (current.isEmpty() || Boolean.TRUE.equals(current.get().getSpec().getSuspend())) {
                return Optional.empty();
            }
            Job j = current.get();
            var annotations = j.getMetadata().getAnnotations() == null ? java.util.Map.<String, String>of() : j.getMetadata().getAnnotations();
            Optional<Instant> base = Optional.ofNullable(annotations.get(Annotations.DEADLINE_BASE)).map(Instant::parse);
            boolean restarted = "Restarted".equals(annotations.get(Annotations.START_REASON));
            if (!restarted && j.getStatus() != null && j.getStatus().getStartTime() != null) {
                Instant started = Instant.parse(j.getStatus().getStartTime());
                return Optional.of(base.filter(b -> b.isAfter(started)).orElse(started));
            }
            return base;
        }

        Optional<Instant> deadline() {
            if (spec.getActiveDeadlineSeconds() == null) {
                return Optional.empty();
            }
            return deadlineBase().map(b -> b.plusSeconds(spec.getActiveDeadlineSeconds()));
        }

        /** A value of the annotation this job has not answered yet. */
        boolean restartPending() {
            return restartRequest != null && !restartRequest.equals(s.getLastRestartRequest());
        }

        boolean restartRequestIsATime() {
            try {
                DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(restartRequest);
                return true;
            } catch (DateTimeParseException e) {
                return false;
            }
        }

        /** Answers the pending request with one Event; status.lastRestartRequest keeps it from being answered again. */
        void answerRestart(JobEvent event) {
            events.add(event);
            s.setLastRestartRequest(restartRequest);
        }

        String restartEventKey() {
            return "restart/" + restartRequest;
        }

        /** The previous round stopped the workers for a requested restart and the next attempt has not started. */
        boolean stoppedForRestart() {
            return Conditions.find(prev.getConditions(), ConditionType.TRAINING)
                    .map(c -> RESTART_REQUESTED.equals(c.getReason())).orElse(false);
        }

        Desired previousFailedCondition() {
            return Conditions.find(prev.getConditions(), ConditionType.FAILED)
                    .filter(c -> "False".equals(c.getStatus()))
                    .map(c -> Desired.isFalse(ConditionType.FAILED, c.getReason(), c.getMessage()))
                    .orElse(Desired.isFalse(ConditionType.FAILED, "NoFailure", Messages.NO_FAILURE));
        }

        // ---- outcomes ----

        Plan terminal(Phase phase) {
            if (restartPending()) {
                answerRestart(JobEvent.normal("RestartIgnored", restartEventKey(), Messages.restartIgnoredFinished(restartRequest, phase)));
            }
            s.setDisplay(Displays.of(spec.getResources(), s.getProgress(), phase));
            List<Desired> same = new ArrayList<>();
            for (Condition c : prev.getConditions()) {
                same.add(new Desired(c.getType(), c.getStatus(), c.getReason(), c.getMessage()));
            }
            s.setConditions(Conditions.merge(prev.getConditions(), same, generation, now));
            Integer ttl = spec.getTtlSecondsAfterFinished();
            if (ttl != null && s.getCompletionTime() != null) {
                Instant expiry = Instant.parse(s.getCompletionTime()).plusSeconds(ttl);
                if (!now.isBefore(expiry)) {
                    deleteSelf = true;
                } else {
                    requeue = Optional.of(Duration.between(now, expiry).plusSeconds(1));
                }
            }
            // Terminal is final: no children are created, no attempt starts; stale attempts still go.
            return finish(false);
        }

        Plan suspended(ValidationResult v) {
            for (Job j : o.workerJobs()) {
                if (!deletes.contains(j.getMetadata().getName())) {
                    deletes.add(j.getMetadata().getName());
                }
            }
            if (prev.getPhase() != Phase.Suspended) {
                events.add(JobEvent.normal("Suspended", "suspend/" + attempt, Messages.suspendedEvent(attempt)));
            }
            s.setPhase(Phase.Suspended);
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "Suspended", Messages.SUSPENDED_WORKERS),
                    Desired.isFalse(ConditionType.TRAINING, "Suspended", Messages.SUSPENDED_TRAINING),
                    "Suspended", Messages.SUSPENDED, null, null);
        }

        /** The request's first round: the current attempt's Job goes; its pods get SIGTERM and checkpoint. */
        Plan stopForRestart(ValidationResult v) {
            current.ifPresent(j -> deletes.add(j.getMetadata().getName()));
            answerRestart(JobEvent.normal(RESTART_REQUESTED, restartEventKey(), Messages.restartRequested(restartRequest, attempt)));
            return stoppingForRestart(v);
        }

        /** Until the stopped attempt's pods are gone (each gone pod is an event for the job), nothing new starts. */
        Plan stoppingForRestart(ValidationResult v) {
            ensureChildren = true;
            s.setPhase(Phase.Initializing);
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "Restarting", Messages.stoppingForRestart(attempt)),
                    Desired.isFalse(ConditionType.TRAINING, RESTART_REQUESTED, Messages.stoppingForRestart(attempt)),
                    RESTART_REQUESTED, Messages.stoppingForRestart(attempt), null, null);
        }

        Plan noWorkers(ValidationResult v, Phase prevPhase) {
            if (!v.valid()) {
                s.setPhase(Phase.Pending);
                events.add(JobEvent.warning(v.reason(), "validation/" + v.reason() + "/" + v.message(), v.message()));
                // With an attempt before and no worker Job, a pending request is one whose workers were deleted.
                boolean restarting = stoppedForRestart() || (attempt > 0 && restartPending());
                if (restartPending()) {
                    answerRestart(attempt > 0
                            ? JobEvent.normal(RESTART_REQUESTED, restartEventKey(), Messages.restartRequested(restartRequest, attempt))
                            : JobEvent.normal("RestartIgnored", restartEventKey(), Messages.restartIgnoredNoWorkers(restartRequest, v.message())));
                }
                return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "NotValidated", Messages.NOT_VALIDATED),
                        restarting ? Desired.isFalse(ConditionType.TRAINING, RESTART_REQUESTED, Messages.RESTART_WAITS_FOR_VALIDATION)
                                : Desired.isFalse(ConditionType.TRAINING, "NotStarted", Messages.NOT_STARTED),
                        v.reason(), v.message(), v.waiting() ? null : v.reason(), v.waiting() ? null : v.message());
            }
            ensureChildren = true;
            if (attempt == 0) {
                start(1, 0, null, now, "Started");
                events.add(JobEvent.normal("WorkersStarted", "start/1", Messages.started(spec.getResources())));
            } else if (prevPhase == Phase.Suspended) {
                String from = checkpointPath();
                start(attempt + 1, s.getRestarts(), from, now, "Resumed");
                events.add(JobEvent.normal("Resumed", "start/" + (attempt + 1), Messages.resumed(attempt + 1, from)));
            } else if (prevPhase == Phase.Pending && !Set.of("NoFailure", "Restarted").contains(failedCondition.reason())) {
                // A restart that waited for validation (see restartOrFail): the failure was recorded, not yet counted.
                return restartOrFail(v, new WorkerFailure(failedCondition.reason(), Messages.restartWaitedForValidation(attempt),
                        null, false));
            } else if (stoppedForRestart() || restartPending()) {
                // Pending request here: the workers were deleted for it and the operator stopped before writing status.
                if (restartPending()) {
                    answerRestart(JobEvent.normal(RESTART_REQUESTED, restartEventKey(), Messages.restartRequested(restartRequest, attempt)));
                }
                if (!currentPods.isEmpty()) {
                    return stoppingForRestart(v);
                }
                // Not a failure: restarts stay as they are; like a resume, the deadline clock starts again.
                start(attempt + 1, s.getRestarts(), checkpointPath(), now, RESTART_REQUESTED);
            } else {
                return restartOrFail(v, new WorkerFailure("WorkersDeleted", Messages.workersDeleted(attempt), null, false));
            }
            return starting(v);
        }

        /**
         * Kueue holds the worker Job suspended: not admitted yet, or preempted (admitted, then suspended again: the
         * workers checkpointed on SIGTERM, which is neither a failure nor a restart) and waiting to be admitted again.
         */
        Plan queued(ValidationResult v) {
            s.setPhase(Phase.Queued);
            String queue = job.getMetadata().getLabels() == null ? null : job.getMetadata().getLabels().get(Labels.KUEUE_QUEUE_NAME);
            KueueWorkload workload = o.workloads().get(current.get().getMetadata().getName());
            String previousReason = Conditions.find(prev.getConditions(), ConditionType.WORKERS_READY)
                    .map(Condition::getReason).orElse("");
            // Admitted before: Kueue's Workload says it was evicted; or, without the Workload, the gang had pods (they
            // are stopping now) or trained. A fresh Job is suspended from its creation and has no pods.
            boolean preempted = workload != null && workload.evicted() || PREEMPTED.equals(previousReason)
                    || prev.getPhase() == Phase.Training || !currentPods.isEmpty();
            String pending = workload == null ? null : workload.pendingMessage();
            String message;
            if (preempted) {
                message = Messages.preempted(queue, workload == null ? null : workload.evictedMessage(), pending, checkpointPath());
                if (!PREEMPTED.equals(previousReason)) {
                    events.add(JobEvent.warning(PREEMPTED, "preempted/" + attempt + "/" + checkpointStep(), message));
                }
            } else {
                message = Messages.queued(queue, pending);
            }
            String reason = preempted ? PREEMPTED : QUEUED;
            if (requeue.isEmpty() || requeue.get().compareTo(OBSERVE_QUEUE_EVERY) > 0) {
                requeue = Optional.of(OBSERVE_QUEUE_EVERY);
            }
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, reason, message),
                    Desired.isFalse(ConditionType.TRAINING, reason, preempted ? Messages.PREEMPTED_TRAINING : Messages.QUEUED),
                    reason, message, null, null);
        }

        Plan running(ValidationResult v, Phase phase, GangStatus gang) {
            s.setPhase(phase);
            if (prev.getPhase() == Phase.Queued && Conditions.find(prev.getConditions(), ConditionType.WORKERS_READY)
                    .map(c -> PREEMPTED.equals(c.getReason())).orElse(false)) {
                events.add(JobEvent.normal("Readmitted", "readmitted/" + attempt + "/" + checkpointStep(),
                        Messages.readmitted(attempt, checkpointPath())));
            }
            Desired workers = gang.kind() == GangStatus.Kind.RUNNING
                    ? Desired.isTrue(ConditionType.WORKERS_READY, "AllWorkersReady", Messages.workersReady(gang.readyWorkers(), gang.workers()))
                    : Desired.isFalse(ConditionType.WORKERS_READY, gang.problem(), gang.problemMessage());
            Desired training = phase == Phase.Training
                    ? Desired.isTrue(ConditionType.TRAINING, trainingReason(), Messages.training(attempt, s.getProgress()))
                    : Desired.isFalse(ConditionType.TRAINING, "Initializing", Messages.WORKERS_INITIALIZING);
            String reason = phase == Phase.Training ? "Training" : gang.problem() == null ? "Initializing" : gang.problem();
            String message = phase == Phase.Training ? Messages.training(attempt, s.getProgress())
                    : gang.problemMessage() == null ? Messages.attemptStarting(attempt) : gang.problemMessage();
            return withSituation(v, workers, training, reason, message,
                    gang.stalled() ? gang.problem() : null, gang.stalled() ? gang.problemMessage() : null);
        }

        Plan succeeded(ValidationResult v) {
            s.setPhase(Phase.Succeeded);
            s.setCompletionTime(now.toString());
            String message = Messages.succeeded(s.getProgress(), s.getOutputs() == null ? null : s.getOutputs().getAdapter());
            events.add(JobEvent.normal("Succeeded", "succeeded", message));
            scheduleTtl();
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "Completed", Messages.WORKERS_FINISHED),
                    Desired.isFalse(ConditionType.TRAINING, "Succeeded", Messages.TRAINING_FINISHED), "Succeeded", message, null, null);
        }

        Plan restartOrFail(ValidationResult v, WorkerFailure failure) {
            if (s.getRestarts() >= spec.getBackoffLimit()) {
                return fail(v, "BackoffLimitExceeded", Messages.backoffLimitExceeded(attempt, spec.getBackoffLimit(), failure),
                        failure.hint());
            }
            if (!v.valid()) {
                // Cannot start another attempt until the inputs are back; the failure is kept in the Failed condition.
                current.ifPresent(j -> deletes.add(j.getMetadata().getName()));
                failedCondition = Desired.isFalse(ConditionType.FAILED, failure.reason(),
                        Messages.restartWaitsForValidation(attempt, failure, v.message()));
                s.setPhase(Phase.Pending);
                return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "NotValidated", v.message()),
                        Desired.isFalse(ConditionType.TRAINING, "Restarting", Messages.WAITING_TO_RESTART), v.reason(), v.message(),
                        v.waiting() ? null : v.reason(), v.waiting() ? null : v.message());
            }
            ensureChildren = true;
            int next = attempt + 1;
            int restarts = s.getRestarts() + 1;
            String from = checkpointPath();
            current.ifPresent(j -> deletes.add(j.getMetadata().getName()));
            start(next, restarts, from, deadlineBase().orElse(now), "Restarted");
            String message = Messages.restarted(attempt, failure, next, from, restarts, spec.getBackoffLimit());
            failedCondition = Desired.isFalse(ConditionType.FAILED, "Restarted", message);
            events.add(JobEvent.warning("Restarted", "start/" + next, message));
            return starting(v);
        }

        Plan fail(ValidationResult v, String reason, String message, String hint) {
            s.setPhase(Phase.Failed);
            s.setCompletionTime(now.toString());
            String full = Messages.withHint(message, hint);
            failedCondition = Desired.isTrue(ConditionType.FAILED, reason, full);
            events.add(JobEvent.warning("Failed", "failed", full));
            scheduleTtl();
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "Failed", Messages.JOB_FAILED),
                    Desired.isFalse(ConditionType.TRAINING, "Failed", Messages.trainingStopped(reason)), reason, full, null, null);
        }

        Plan starting(ValidationResult v) {
            s.setPhase(Phase.Initializing);
            return withSituation(v, Desired.isFalse(ConditionType.WORKERS_READY, "WorkersStarting", Messages.creatingWorkers(s.getAttempt())),
                    Desired.isFalse(ConditionType.TRAINING, "Initializing", Messages.WORKERS_STARTING),
                    "Initializing", Messages.startingAttempt(s.getAttempt(), spec.getResources()), null, null);
        }

        void start(int number, int restarts, String resumeFrom, Instant deadlineBase, String reason) {
            launch = Optional.of(new Attempt(number, restarts, resumeFrom, deadlineBase, reason));
            if (restartRequest != null) {
                s.setLastRestartRequest(restartRequest); // an attempt started now is what any request so far asked for
            }
            s.setAttempt(number);
            s.setRestarts(restarts);
            if (s.getStartTime() == null) {
                s.setStartTime(now.toString());
            }
            if (spec.getActiveDeadlineSeconds() != null) {
                Instant deadline = deadlineBase.plusSeconds(spec.getActiveDeadlineSeconds());
                requeue = Optional.of(Duration.between(now, deadline).plusSeconds(1));
            }
            // The operator's own creates raise no events (JOSDK filters them), and a gang held in a Kueue queue
            // raises none either: the next round, which reports what the new worker Job does, is scheduled.
            if (requeue.isEmpty() || requeue.get().compareTo(OBSERVE_LAUNCH_AFTER) > 0) {
                requeue = Optional.of(OBSERVE_LAUNCH_AFTER);
            }
        }

        void scheduleTtl() {
            if (spec.getTtlSecondsAfterFinished() != null) {
                requeue = Optional.of(Duration.ofSeconds(spec.getTtlSecondsAfterFinished()).plusSeconds(1));
            } else {
                requeue = Optional.empty();
            }
        }

        Plan withSituation(ValidationResult v, Desired workers, Desired training, String reason, String message,
                String stalledReason, String stalledMessage) {
            Situation situation = new Situation(s.getPhase(), v, workers, training, failedCondition, reason, message,
                    stalledReason, stalledMessage, s.getLastCheckpoint(), spec.isSuspend());
            s.setConditions(Conditions.merge(prev.getConditions(), ConditionsMapper.map(situation), generation, now));
            s.setDisplay(Displays.of(spec.getResources(), s.getProgress(), s.getPhase()));
            return finish(ensureChildren);
        }

        Plan finish(boolean children) {
            return new Plan(s, children, launch, List.copyOf(deletes), List.copyOf(events), requeue, deleteSelf);
        }

        /** The step of the last checkpoint, "none" before the first: tells one preemption of an attempt from the next. */
        String checkpointStep() {
            return s.getLastCheckpoint() == null ? "none" : Long.toString(s.getLastCheckpoint().step());
        }

        String checkpointPath() {
            return s.getLastCheckpoint() == null ? null : s.getLastCheckpoint().path();
        }

        String trainingReason() {
            TrainerState state = currentReport.map(ProgressReport::state).orElse(TrainerState.TRAINING);
            return switch (state) {
                case EVALUATING -> "Evaluating";
                case CHECKPOINTING -> "Checkpointing";
                case SUCCEEDED -> "Finishing";
                default -> "Training";
            };
        }
    }

    /** The attempt label of a worker Job or pod, 0 when absent. */
    static int attemptOf(HasMetadata resource) {
        var labels = resource.getMetadata().getLabels();
        if (labels == null || labels.get(Labels.ATTEMPT) == null) {
            return 0;
        }
        try {
            return Integer.parseInt(labels.get(Labels.ATTEMPT));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
