package dev.finetune.operator.lifecycle;

import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.ResourcesSpec;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.operator.status.Displays;
import java.time.Instant;
import java.util.Locale;

/**
 * Every sentence {@link LifecyclePlanner} writes for people: condition messages, Event messages and the hints of
 * failures. Users read these in {@code kubectl describe}, so they are worded here, once, and the planner only
 * chooses which. Sentences start with a capital letter and end with a period.
 */
final class Messages {

    static final String NO_FAILURE = "No attempt has failed.";
    static final String NOT_VALIDATED = "Workers start once the job is validated.";
    static final String NOT_STARTED = "Training has not started.";
    static final String WORKERS_STARTING = "Workers are starting.";
    static final String WORKERS_INITIALIZING = "Workers are starting, loading the model and data, or waiting for the whole gang.";
    static final String QUEUED = "Waiting for the queue to admit the workers.";
    static final String PREEMPTED_TRAINING = "Paused by Kueue's preemption; resumes from the last checkpoint once admitted again.";
    static final String WORKERS_FINISHED = "The workers have finished.";
    static final String TRAINING_FINISHED = "Training finished.";
    static final String JOB_FAILED = "The job has failed.";
    static final String WAITING_TO_RESTART = "Waiting to restart.";
    static final String SUSPENDED_WORKERS = "No workers run while the job is suspended.";
    static final String SUSPENDED_TRAINING = "Training is paused.";
    static final String SUSPENDED = "Suspended as spec.suspend asks; progress and checkpoints are kept.";
    static final String RESTART_WAITS_FOR_VALIDATION = "A requested restart waits until the job is valid again.";
    static final String DEADLINE_HINT = "Raise spec.activeDeadlineSeconds, or train fewer epochs.";

    private Messages() {
    }

    static String deadlineExceeded(long activeDeadlineSeconds, Instant countedFrom) {
        return "The job ran longer than spec.activeDeadlineSeconds (" + activeDeadlineSeconds + " s, counted from " + countedFrom
                + "); its workers were stopped.";
    }

    static String restartRequested(String requestedAt, int attempt) {
        return "Restart requested at " + requestedAt + ": stopping the workers of attempt " + attempt
                + " (they checkpoint on SIGTERM); attempt " + (attempt + 1) + " resumes from the last checkpoint once they are gone."
                + " Not counted against spec.backoffLimit.";
    }

    static String stoppingForRestart(int attempt) {
        return "Stopping the workers of attempt " + attempt + " for the requested restart.";
    }

    static String restartIgnoredFinished(String requestedAt, Phase phase) {
        return "The restart requested at " + requestedAt + " was ignored: the job has "
                + (phase == Phase.Succeeded ? "succeeded" : "failed")
                + ", and a finished job never restarts. To train again, create a new FineTuneJob.";
    }

    static String restartIgnoredSuspended(String requestedAt) {
        return "The restart requested at " + requestedAt + " was ignored: the job is suspended and no workers run;"
                + " setting spec.suspend to false starts a new attempt from the last checkpoint.";
    }

    static String restartIgnoredNoWorkers(String requestedAt, String validation) {
        return "The restart requested at " + requestedAt + " was ignored: the job has not started, it waits for validation: "
                + sentence(validation) + " Its first attempt starts once it is valid.";
    }

    static String restartRequestInvalid(String value, String job) {
        return "Annotation " + FineTuneJob.RESTART_REQUESTED_AT + " is \"" + value
                + "\", not an RFC 3339 time; nothing was restarted. Set it to the current time: kubectl annotate finetunejob "
                + job + " " + FineTuneJob.RESTART_REQUESTED_AT + "=$(date -u +%Y-%m-%dT%H:%M:%SZ) --overwrite.";
    }

    /** "Queued in LocalQueue team-a: couldn't assign flavors ... 400m more needed." */
    static String queued(String queue, String kueueReason) {
        return "Queued in LocalQueue " + queue + ": " + (kueueReason == null
                ? "waiting for Kueue to admit the whole gang." : sentence(kueueReason));
    }

    static String preempted(String queue, String eviction, String kueueReason, String checkpoint) {
        return "Preempted by Kueue" + (eviction == null ? "" : " (" + eviction.strip() + ")")
                + ": the workers took a checkpoint and stopped; queued in LocalQueue " + queue + " again"
                + (kueueReason == null ? "" : " (" + kueueReason.strip() + ")") + ", and once admitted they resume "
                + from(checkpoint) + ". Not a failure: no restart is counted.";
    }

    static String readmitted(int attempt, String checkpoint) {
        return "Kueue admitted the workers of attempt " + attempt + " again; they resume " + from(checkpoint) + ".";
    }

    static String attemptFailed(int attempt, String failure) {
        return "Attempt " + attempt + " failed: " + failure;
    }

    static String evaluated(EpochRecord r) {
        return String.format(Locale.ROOT, "Epoch %d, step %d: eval loss %s, perplexity %s%s.", r.epoch(), r.step(),
                Displays.significant(r.evalLoss()), Displays.significant(r.perplexity()),
                r.trainLoss() == null ? "" : ", train loss " + Displays.significant(r.trainLoss()));
    }

    static String checkpointSaved(CheckpointRef checkpoint) {
        return "Resumable checkpoint at epoch " + checkpoint.epoch() + ", step " + checkpoint.step() + ": "
                + checkpoint.path() + ".";
    }

    static String suspendedEvent(int attempt) {
        return attempt == 0
                ? "Suspended before start (spec.suspend is true); no workers are created until it is false."
                : "Suspended (spec.suspend is true): workers of attempt " + attempt + " stopped; progress and checkpoints kept.";
    }

    static String started(ResourcesSpec resources) {
        return "Started attempt 1: " + workers(resources) + ".";
    }

    static String resumed(int attempt, String checkpoint) {
        return "Resumed as attempt " + attempt + " " + from(checkpoint) + ".";
    }

    static String restartWaitedForValidation(int attempt) {
        return "Attempt " + attempt + " had failed; its restart waited until the job was valid again.";
    }

    static String workersDeleted(int attempt) {
        return "The worker Job of attempt " + attempt + " disappeared (deleted outside the operator).";
    }

    /** A worker's initializer is downloading, and rank 0's has reported how far: {@code Pod P: downloading model hf://...: 412 MB of 1.50 GB (27%).} */
    static String downloading(String pod, SourceDownload download) {
        return "Pod " + pod + ": downloading " + download.describe() + ".";
    }

    /** A worker's initializer is downloading; its log has the numbers. */
    static String downloading(String pod, String initContainer) {
        return "Pod " + pod + " is downloading the model and data sources into their caches (progress: kubectl logs " + pod
                + " -c " + initContainer + ").";
    }

    static String workersReady(int ready, int workers) {
        return ready + " of " + workers + " worker pods are ready.";
    }

    static String attemptStarting(int attempt) {
        return "Attempt " + attempt + " is starting.";
    }

    static String succeeded(Progress progress, String adapter) {
        return "Training finished" + (progress != null && progress.getEvalLoss() != null
                ? " with eval loss " + Displays.significant(progress.getEvalLoss()) + ", perplexity "
                        + Displays.significant(progress.getPerplexity()) : "")
                + (adapter == null ? "." : "; adapter at " + adapter + ".");
    }

    static String backoffLimitExceeded(int attempt, int backoffLimit, WorkerFailure failure) {
        return "Attempt " + attempt + " failed and spec.backoffLimit (" + backoffLimit + ") restarts are used up. Last failure ("
                + failure.reason() + "): " + failure.message();
    }

    static String restartWaitsForValidation(int attempt, WorkerFailure failure, String validation) {
        return "Attempt " + attempt + " failed: " + failure.message() + " A restart waits for validation: " + validation;
    }

    static String restarted(int failedAttempt, WorkerFailure failure, int next, String checkpoint, int restarts, int backoffLimit) {
        return "Attempt " + failedAttempt + " failed (" + failure.reason() + "): " + sentence(failure.message())
                + " Restarted the gang as attempt " + next + " " + from(checkpoint)
                + "; restart " + restarts + " of spec.backoffLimit " + backoffLimit + ".";
    }

    static String withHint(String message, String hint) {
        return hint == null ? message : message + " Hint: " + hint;
    }

    static String trainingStopped(String reason) {
        return "Training stopped: " + reason + ".";
    }

    static String creatingWorkers(int attempt) {
        return "Creating the workers of attempt " + attempt + ".";
    }

    static String startingAttempt(int attempt, ResourcesSpec resources) {
        return "Starting attempt " + attempt + ": " + workers(resources) + ".";
    }

    static String training(int attempt, Progress p) {
        if (p == null) {
            return "Attempt " + attempt + " is training.";
        }
        StringBuilder m = new StringBuilder("Attempt ").append(attempt).append(" is training");
        if (p.getEpoch() != null) {
            m.append(": epoch ").append(p.getEpoch()).append(p.getTotalEpochs() == null ? "" : "/" + p.getTotalEpochs());
        }
        if (p.getStep() != null) {
            m.append(", step ").append(p.getStep()).append(p.getTotalSteps() == null ? "" : "/" + p.getTotalSteps());
        }
        if (p.getEvalLoss() != null) {
            m.append(", eval loss ").append(Displays.significant(p.getEvalLoss()));
        }
        return m.append('.').toString();
    }

    /** "2 workers with 4 GPUs each", "1 worker with CPU only". */
    static String workers(ResourcesSpec r) {
        return r.getWorkers() + " worker" + (r.getWorkers() == 1 ? "" : "s") + " with "
                + (r.getGpus() == 0 ? "CPU only" : r.getGpus() + " GPU" + (r.getGpus() == 1 ? "" : "s") + " each");
    }

    /** A trainer message as a sentence, so the operator's own sentence can follow it. */
    static String sentence(String message) {
        String m = message == null ? "" : message.strip();
        return m.isEmpty() || m.endsWith(".") || m.endsWith("!") || m.endsWith("?") ? m : m + ".";
    }

    private static String from(String checkpoint) {
        return checkpoint == null ? "from the beginning (no checkpoint yet)" : "from checkpoint " + checkpoint;
    }
}
