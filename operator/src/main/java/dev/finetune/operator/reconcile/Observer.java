package dev.finetune.operator.reconcile;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.children.Names;
import dev.finetune.operator.events.JobEvent;
import dev.finetune.operator.lifecycle.KueueWorkload;
import dev.finetune.operator.lifecycle.Observation;
import dev.finetune.operator.validation.JobValidator;
import dev.finetune.operator.validation.ValidationResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Gathers an {@link Observation} from the informer caches: no API calls except a rare StorageClass read and, while
 * Kueue holds a worker Job, its Workload.
 */
final class Observer {

    private final StorageClassModes storageClasses;
    private final Clock clock;

    Observer(StorageClassModes storageClasses, Clock clock) {
        this.storageClasses = storageClasses;
        this.clock = clock;
    }

    @SuppressWarnings("unchecked")
    Observation observe(FineTuneJob job, Context<FineTuneJob> context, Consumer<JobEvent> warnings) {
        String namespace = job.getMetadata().getNamespace();
        String name = job.getMetadata().getName();
        List<Job> jobs = context.getSecondaryResources(Job.class).stream().toList();
        List<Pod> pods = context.getSecondaryResources(Pod.class).stream().toList();
        Optional<ConfigMap> progress = context.getSecondaryResources(ConfigMap.class).stream()
                .filter(cm -> Names.progressConfigMap(name).equals(cm.getMetadata().getName()))
                .findFirst();
        Optional<ProgressReport> report = progress.flatMap(cm -> readReport(cm, TrainerConfigs.PROGRESS_KEY, warnings));
        Optional<ProgressReport> initializerReport = progress.flatMap(cm ->
                readReport(cm, TrainerConfigs.INITIALIZER_PROGRESS_KEY, warnings));

        InformerEventSource<PersistentVolumeClaim, FineTuneJob> pvcs = (InformerEventSource<PersistentVolumeClaim, FineTuneJob>)
                context.eventSourceRetriever().getEventSourceFor(PersistentVolumeClaim.class);
        List<FineTuneJob> sharingOutput = context.getPrimaryCache()
                .byIndex(EventSources.OUTPUT_CLAIM_INDEX, EventSources.outputClaim(job).stream().findFirst().orElse(""));
        ValidationResult validation = JobValidator.validate(job,
                claim -> pvcs.get(new ResourceID(claim, namespace)),
                storageClasses::bindingMode,
                sharingOutput);
        Map<String, KueueWorkload> workloads = new HashMap<>();
        for (Job worker : jobs) {
            if (KueueWorkloads.heldByKueue(worker)) {
                KueueWorkloads.of(context.getClient(), worker).ifPresent(w -> workloads.put(worker.getMetadata().getName(), w));
            }
        }
        return new Observation(job, clock.instant(), validation, jobs, pods, report, initializerReport, workloads);
    }

    /** The report under {@code key}: the trainer's ({@code progress.json}) or the initializer's ({@code initialize.json}). */
    static Optional<ProgressReport> readReport(ConfigMap cm, String key, Consumer<JobEvent> warnings) {
        String json = cm.getData() == null ? null : cm.getData().get(key);
        if (json == null || json.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(TrainerJson.read(json, ProgressReport.class));
        } catch (RuntimeException e) {
            warnings.accept(JobEvent.warning("ProgressReportUnreadable", "unreadable/" + key + "/" + cm.getMetadata().getResourceVersion(),
                    "ConfigMap " + cm.getMetadata().getName() + " key " + key
                            + " is not a progress report the operator understands: " + e.getMessage()));
            return Optional.empty();
        }
    }
}
