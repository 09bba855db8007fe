package dev.finetune.operator.lifecycle;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.operator.children.SourceInitRenderer;
import dev.finetune.operator.children.WorkerJobRenderer;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the state of one attempt from its batch Job, its pods (exit codes, termination messages, waiting
 * reasons) and rank 0's report. Pure: everything comes in as arguments.
 */
public final class GangObserver {

    private static final Set<String> STALLING_WAIT_REASONS = Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName",
            "CreateContainerConfigError", "CreateContainerError");
    private static final Set<String> EVICTION_REASONS = Set.of("Evicted", "Preempting", "NodeLost", "Shutdown", "Terminated",
            "NodeShutdown", "UnexpectedAdmissionError", "DeletionByTaintManager");

    private GangObserver() {
    }

    /**
     * @param report rank 0's latest report, when it belongs to this attempt
     */
    public static GangStatus observe(Job job, List<Pod> attemptPods, Optional<ProgressReport> report, int workers) {
        return observe(job, attemptPods, report, List.of(), workers);
    }

    /**
     * @param report rank 0's latest report, when it belongs to this attempt
     * @param downloads rank 0's initializer's sources of this attempt, with their bytes done / total; empty if none
     */
    public static GangStatus observe(Job job, List<Pod> attemptPods, Optional<ProgressReport> report,
            List<SourceDownload> downloads, int workers) {
        boolean jobFailed = hasCondition(job, "Failed");
        if (job.getSpec() != null && Boolean.TRUE.equals(job.getSpec().getSuspend()) && !jobFailed) {
            // Held by its queue. A preempted gang's pods are being stopped by the Job controller: they exit after
            // their SIGTERM checkpoint, which is neither a failure nor a restart. (A worker killed before it could
            // checkpoint fails the Job all the same, and Kueue never admits a failed Job again: that is a failure.)
            return new GangStatus(GangStatus.Kind.QUEUED, 0, workers, "Queued",
                    "The worker Job is suspended until its queue admits it (Kueue).", false, null);
        }
        List<Pod> pods = ofThisAdmission(job, attemptPods);
        List<WorkerFailure> failures = new ArrayList<>();
        MemoryEstimate memory = report.map(ProgressReport::memory).orElse(null);
        for (Pod pod : pods) {
            podFailure(pod, memory).ifPresent(failures::add);
        }
        if (report.isPresent() && report.get().state() == TrainerState.FAILED && report.get().failure() != null
                && (jobFailed || !failures.isEmpty())) {
            var f = report.get().failure();
            failures.add(fromReason(f.reason(), "rank 0 reported: " + f.message(), f.hint()));
        }
        if (!failures.isEmpty()) {
            WorkerFailure worst = failures.stream().min(Comparator.comparingInt(WorkerFailure::rank)).orElseThrow();
            return new GangStatus(GangStatus.Kind.FAILED, 0, workers, null, null, false, worst);
        }
        if (jobFailed) {
            String message = condition(job, "Failed").map(JobCondition::getMessage).orElse("the worker Job failed");
            return new GangStatus(GangStatus.Kind.FAILED, 0, workers, null, null, false,
                    new WorkerFailure("WorkersFailed", "The worker Job failed: " + message + ".", null, false));
        }
        if (hasCondition(job, "Complete") || succeededAll(job, workers)) {
            return new GangStatus(GangStatus.Kind.SUCCEEDED, 0, workers, null, null, false, null);
        }
        int ready = (int) pods.stream().filter(GangObserver::isReady).count();
        // A worker that exited 0 has done its part. On a real cluster the Job controller counts it a second or
        // two later; until then the gang is finishing, not starting again: the phase goes Training -> Succeeded,
        // never back through Initializing.
        int finished = (int) pods.stream().filter(GangObserver::exitedCleanly).count();
        if (ready + finished >= workers) {
            return new GangStatus(GangStatus.Kind.RUNNING, ready + finished, workers, null, null, false, null);
        }
        for (Pod pod : pods) {
            Optional<GangStatus> problem = problem(pod, ready, workers);
            if (problem.isPresent()) {
                return problem.get();
            }
        }
        List<Pod> initializing = pods.stream().filter(GangObserver::initializing).toList();
        if (!initializing.isEmpty()) {
            // rank 0's initializer reports its bytes; the others' are only in their logs
            Optional<SourceDownload> unfinished = downloads.stream().filter(d -> !d.complete()).findFirst();
            Optional<Pod> rankZero = initializing.stream().filter(p -> "0".equals(rank(p))).findFirst();
            String message = rankZero.isPresent() && unfinished.isPresent()
                    ? Messages.downloading(rankZero.get().getMetadata().getName(), unfinished.get())
                    : Messages.downloading(initializing.getFirst().getMetadata().getName(), SourceInitRenderer.INIT_CONTAINER);
            return new GangStatus(GangStatus.Kind.STARTING, ready, workers, "Downloading", message, false, null);
        }
        return new GangStatus(GangStatus.Kind.STARTING, ready, workers, "WorkersStarting",
                ready + " of " + workers + " worker pods are running.", false, null);
    }

    /**
     * The pods of the Job's current run. Kueue can preempt an admitted Job (suspend it: its pods get SIGTERM and are
     * deleted) and admit it again later; the Job controller then resets {@code status.startTime} and creates new
     * pods. A pod created before that start that is being deleted or has finished belongs to the earlier admission
     * and is no longer part of the gang. A live pod is this admission's whatever its creation time: the Job
     * controller can write {@code startTime} after creating the pods (its status update retried after a conflict).
     */
    public static List<Pod> ofThisAdmission(Job job, List<Pod> pods) {
        String started = job.getStatus() == null ? null : job.getStatus().getStartTime();
        if (started == null) {
            return pods;
        }
        Instant start = Instant.parse(started);
        return pods.stream().filter(p -> p.getMetadata().getCreationTimestamp() == null
                || !Instant.parse(p.getMetadata().getCreationTimestamp()).isBefore(start) || alive(p)).toList();
    }

    /** Neither being deleted nor finished (no terminal phase, no terminated container). */
    private static boolean alive(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return false;
        }
        if (pod.getStatus() == null) {
            return true;
        }
        if ("Failed".equals(pod.getStatus().getPhase()) || "Succeeded".equals(pod.getStatus().getPhase())) {
            return false;
        }
        List<ContainerStatus> containers = pod.getStatus().getContainerStatuses();
        return containers == null || containers.stream().noneMatch(c -> c.getState() != null && c.getState().getTerminated() != null);
    }

    /** Whether the pod's source initializer is running. */
    private static boolean initializing(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getInitContainerStatuses() != null
                && pod.getStatus().getInitContainerStatuses().stream().anyMatch(cs ->
                        SourceInitRenderer.INIT_CONTAINER.equals(cs.getName()) && cs.getState() != null
                                && cs.getState().getRunning() != null);
    }

    private static Optional<GangStatus> problem(Pod pod, int ready, int workers) {
        String name = pod.getMetadata().getName();
        if (pod.getStatus() == null) {
            return Optional.empty();
        }
        for (ContainerStatus cs : containerStatuses(pod)) {
            ContainerStateWaiting waiting = cs.getState() == null ? null : cs.getState().getWaiting();
            if (waiting != null && waiting.getReason() != null && STALLING_WAIT_REASONS.contains(waiting.getReason())) {
                return Optional.of(new GangStatus(GangStatus.Kind.STARTING, ready, workers, waiting.getReason(),
                        "Pod " + name + ": " + (waiting.getMessage() == null ? waiting.getReason() : waiting.getMessage()),
                        true, null));
            }
        }
        if (pod.getStatus().getConditions() != null) {
            for (PodCondition c : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason())) {
                    return Optional.of(new GangStatus(GangStatus.Kind.STARTING, ready, workers, "Unschedulable",
                            "Pod " + name + " cannot be scheduled: " + c.getMessage(), false, null));
                }
            }
        }
        return Optional.empty();
    }

    /** The failure of one pod, if it failed. */
    static Optional<WorkerFailure> podFailure(Pod pod) {
        return podFailure(pod, null);
    }

    /**
     * The failure of one pod, if it failed.
     *
     * @param memory the trainer's estimate of a worker's peak memory, for an OOMKilled worker's hint; null if none
     */
    static Optional<WorkerFailure> podFailure(Pod pod, MemoryEstimate memory) {
        if (pod.getStatus() == null) {
            return Optional.empty();
        }
        String where = "Worker " + rank(pod) + " (pod " + pod.getMetadata().getName() + ")";
        for (ContainerStatus cs : containerStatuses(pod)) {
            ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
            if (t == null || t.getExitCode() == null || t.getExitCode() == 0) {
                continue;
            }
            return Optional.of(classify(where, t, memory, memoryLimit(pod, cs.getName())));
        }
        if ("Failed".equals(pod.getStatus().getPhase())) {
            String reason = pod.getStatus().getReason();
            String message = pod.getStatus().getMessage();
            if (reason != null && EVICTION_REASONS.contains(reason)) {
                return Optional.of(new WorkerFailure("Evicted", where + " was stopped by the cluster (" + reason + "): "
                        + message, "The gang restarts from the last checkpoint.", false));
            }
            return Optional.of(new WorkerFailure("WorkerFailed", where + " failed" + (reason == null ? "" : " (" + reason + ")")
                    + (message == null ? "." : ": " + message), null, false));
        }
        return Optional.empty();
    }

    static WorkerFailure classify(String where, ContainerStateTerminated t) {
        return classify(where, t, null, null);
    }

    /**
     * @param memory the trainer's memory estimate (null when it was not reported)
     * @param limit the container's memory limit (null when it has none)
     */
    static WorkerFailure classify(String where, ContainerStateTerminated t, MemoryEstimate memory, Quantity limit) {
        int code = t.getExitCode();
        Optional<ProgressReport> report = parseReport(t.getMessage());
        if (report.isPresent() && report.get().failure() != null) {
            var f = report.get().failure();
            return fromReason(f.reason(), where + ": " + f.message(), f.hint());
        }
        if ("OOMKilled".equals(t.getReason())) {
            // permanent: the same run in the same limit is killed again at the same point
            return new WorkerFailure(FailureReason.OUT_OF_MEMORY.conditionReason(), where
                    + " was killed for exceeding its memory limit" + (limit == null ? "" : " of " + limit) + " (OOMKilled).",
                    oomHint(memory, limit), true);
        }
        Optional<FailureReason> byCode = FailureReason.fromExitCode(code);
        String tail = report.isEmpty() && t.getMessage() != null && !t.getMessage().isBlank()
                ? " Last output: " + abbreviate(t.getMessage().strip(), 600) : "";
        if (byCode.isPresent()) {
            FailureReason r = byCode.get();
            return new WorkerFailure(r.conditionReason(), where + " exited with code " + code + " (" + r.conditionReason() + ")." + tail,
                    r.hint(), r.permanent());
        }
        if (code == 137) {
            return new WorkerFailure("Killed", where + " was killed (SIGKILL, exit code 137)." + tail,
                    "The gang restarts from the last checkpoint.", false);
        }
        return new WorkerFailure("WorkerFailed", where + " exited with code " + code
                + (t.getReason() == null ? "" : " (" + t.getReason() + ")") + "." + tail, null, false);
    }

    /** How much to ask for: the trainer's estimate against the limit, then the settings that lower the need. */
    static String oomHint(MemoryEstimate memory, Quantity limit) {
        String lower = "lower training.batchSize (raise training.gradientAccumulationSteps to keep the effective batch) "
                + "or dataset.maxSeqLength, or set training.gradientCheckpointing: true.";
        if (memory == null) {
            return "The worker was killed before the trainer had loaded the model and estimated its memory, so the "
                    + "limit" + (limit == null ? "" : " of " + limit) + " is below the model's weights plus the runtime: "
                    + "raise spec.resources.memory to at least the size of the model's safetensors "
                    + "files plus 1Gi, or " + lower;
        }
        String need = MemoryEstimate.human(memory.bytes());
        String request = roundUpToGi(memory.bytes()) + "Gi";
        return "The run needs about " + need + " per worker (the trainer's estimate: " + memory.breakdown() + ")"
                + (limit == null ? "" : " and the limit is " + limit) + ": set spec.resources.memory to " + request
                + " or more, or " + lower;
    }

    /** Whole GiB at or above {@code bytes}, in GiB. */
    private static long roundUpToGi(long bytes) {
        long gi = 1L << 30;
        return (bytes + gi - 1) / gi;
    }

    /** The memory limit of the pod's container with that name, or null when it has none. */
    static Quantity memoryLimit(Pod pod, String container) {
        if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
            return null;
        }
        return pod.getSpec().getContainers().stream()
                .filter(c -> container == null || container.equals(c.getName()))
                .map(c -> c.getResources() == null || c.getResources().getLimits() == null ? null
                        : c.getResources().getLimits().get("memory"))
                .filter(java.util.Objects::nonNull)
                .findFirst().orElse(null);
    }

    static WorkerFailure fromReason(FailureReason reason, String message, String hint) {
        if (reason == null) {
            return new WorkerFailure("WorkerFailed", message, hint, false);
        }
        return new WorkerFailure(reason.conditionReason(), message, hint != null ? hint : reason.hint(), reason.permanent());
    }

    /** A termination message that is a ProgressReport (the trainer's final summary); empty for log tails. */
    public static Optional<ProgressReport> parseReport(String message) {
        if (message == null || !message.stripLeading().startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(TrainerJson.read(message, ProgressReport.class));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The termination report of rank 0's trainer container, if it wrote one. */
    public static Optional<ProgressReport> rankZeroTerminationReport(List<Pod> pods) {
        return pods.stream()
                .filter(p -> "0".equals(rank(p)))
                .flatMap(p -> containerStatuses(p).stream())
                .filter(cs -> cs.getState() != null && cs.getState().getTerminated() != null)
                .map(cs -> parseReport(cs.getState().getTerminated().getMessage()))
                .flatMap(Optional::stream)
                .findFirst();
    }

    static String rank(Pod pod) {
        var annotations = pod.getMetadata().getAnnotations();
        String index = annotations == null ? null : annotations.get(WorkerJobRenderer.COMPLETION_INDEX_ANNOTATION);
        return index == null ? "?" : index;
    }

    /** The source initializer's status (it runs first) and the trainer's. */
    private static List<ContainerStatus> containerStatuses(Pod pod) {
        if (pod.getStatus() == null) {
            return List.of();
        }
        List<ContainerStatus> statuses = new ArrayList<>();
        if (pod.getStatus().getInitContainerStatuses() != null) {
            pod.getStatus().getInitContainerStatuses().stream()
                    .filter(cs -> SourceInitRenderer.INIT_CONTAINER.equals(cs.getName())).forEach(statuses::add);
        }
        if (pod.getStatus().getContainerStatuses() != null) {
            pod.getStatus().getContainerStatuses().stream()
                    .filter(cs -> WorkerJobRenderer.CONTAINER.equals(cs.getName())).forEach(statuses::add);
        }
        return statuses;
    }

    static boolean exitedCleanly(Pod pod) {
        return pod.getStatus() != null && "Succeeded".equals(pod.getStatus().getPhase());
    }

    static boolean isReady(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null || pod.getMetadata().getDeletionTimestamp() != null) {
            return false;
        }
        return pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static boolean succeededAll(Job job, int workers) {
        return job.getStatus() != null && job.getStatus().getSucceeded() != null && job.getStatus().getSucceeded() >= workers;
    }

    static boolean hasCondition(Job job, String type) {
        return condition(job, type).isPresent();
    }

    private static Optional<JobCondition> condition(Job job, String type) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return job.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
                .findFirst();
    }

    private static String abbreviate(String text, int max) {
        return text.length() <= max ? text : "..." + text.substring(text.length() - max);
    }
}
