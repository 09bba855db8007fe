package dev.finetune.operator.lifecycle;

import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.operator.events.JobEvent;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the reconciler does this round, decided by {@link LifecyclePlanner}.
 *
 * @param status the status to write
 * @param ensureChildren create or refresh config, progress ConfigMap, Service, identity and NetworkPolicy
 * @param launch a new attempt's worker Job to create
 * @param deleteWorkerJobs names of batch Jobs to delete (with their pods)
 * @param requeueAfter when to look again even if nothing changes (deadline, TTL)
 * @param deleteFineTuneJob ttlSecondsAfterFinished has expired
 */
public record Plan(FineTuneJobStatus status, boolean ensureChildren, Optional<Attempt> launch,
        List<String> deleteWorkerJobs, List<JobEvent> events, Optional<Duration> requeueAfter, boolean deleteFineTuneJob) {
}
