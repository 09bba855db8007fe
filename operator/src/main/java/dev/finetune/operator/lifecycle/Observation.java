package dev.finetune.operator.lifecycle;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.validation.ValidationResult;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the planner looks at, gathered from the informer caches by the reconciler.
 *
 * @param workerJobs the job's batch Jobs, any attempt
 * @param pods the job's worker pods, any attempt
 * @param report rank 0's latest report from the progress ConfigMap, when readable
 * @param initializerReport rank 0's initializer's latest report (its downloads) from the same ConfigMap, when readable
 * @param workloads the Kueue Workloads of worker Jobs Kueue holds suspended, by worker Job name
 */
public record Observation(FineTuneJob job, Instant now, ValidationResult validation, List<Job> workerJobs, List<Pod> pods,
        Optional<ProgressReport> report, Optional<ProgressReport> initializerReport, Map<String, KueueWorkload> workloads) {

    /** Without Kueue Workloads: no worker Job is held in a queue, or none could be read. */
    public Observation(FineTuneJob job, Instant now, ValidationResult validation, List<Job> workerJobs, List<Pod> pods,
            Optional<ProgressReport> report, Optional<ProgressReport> initializerReport) {
        this(job, now, validation, workerJobs, pods, report, initializerReport, Map.of());
    }

    /** An observation of a job whose initializer has not reported. */
    public Observation(FineTuneJob job, Instant now, ValidationResult validation, List<Job> workerJobs, List<Pod> pods,
            Optional<ProgressReport> report, Map<String, KueueWorkload> workloads) {
        this(job, now, validation, workerJobs, pods, report, Optional.empty(), workloads);
    }

    /** An observation of a job whose initializer has not reported, with no worker Job held in a queue. */
    public Observation(FineTuneJob job, Instant now, ValidationResult validation, List<Job> workerJobs, List<Pod> pods,
            Optional<ProgressReport> report) {
        this(job, now, validation, workerJobs, pods, report, Optional.empty(), Map.of());
    }
}
