package dev.finetune.operator.reconcile;

import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.operator.children.RenderSettings;
import dev.finetune.operator.events.EventRecorder;
import dev.finetune.operator.events.JobEvent;
import dev.finetune.operator.lifecycle.LifecyclePlanner;
import dev.finetune.operator.lifecycle.Observation;
import dev.finetune.operator.lifecycle.Plan;
import dev.finetune.operator.metrics.JobMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Reconciles a FineTuneJob: observe (informer caches), validate (what the API server cannot), decide
 * ({@link LifecyclePlanner}, a pure function), act (children, attempts, events, metrics), then write status.
 * Each step is idempotent; any event on the job or a child runs the whole round again. No finalizer: nothing
 * outside the cluster needs cleaning up, and owner references let the garbage collector remove the children.
 */
@ControllerConfiguration(name = FineTuneJobReconciler.NAME,
        generationAwareEventProcessing = false, informer = @Informer(onUpdateFilter = SpecOrRestartRequestChanged.class,
                itemStore = WithoutManagedFields.class),
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
public class FineTuneJobReconciler implements Reconciler<FineTuneJob> {

    public static final String NAME = "finetunejob";
    private static final Logger LOG = Logger.getLogger(FineTuneJobReconciler.class);
    private static final SpecOrRestartRequestChanged STARTS_A_ROUND = new SpecOrRestartRequestChanged();

    private final ApiServerEndpoints endpoints;
    private final EventRecorder events;
    private final JobMetrics metrics;
    private final Observer observer;
    private final ChildWriter children;

    @Inject
    public FineTuneJobReconciler(KubernetesClient client, ApiServerEndpoints endpoints, StorageClassModes storageClasses,
            EventRecorder events, JobMetrics metrics) {
        this(client, endpoints, storageClasses, events, metrics, Clock.systemUTC());
    }

    public FineTuneJobReconciler(KubernetesClient client, ApiServerEndpoints endpoints, StorageClassModes storageClasses,
            EventRecorder events, JobMetrics metrics, Clock clock) {
        this.endpoints = endpoints;
        this.events = events;
        this.metrics = metrics;
        this.observer = new Observer(storageClasses, clock);
        this.children = new ChildWriter(client);
    }

    @Override
    public List<EventSource<?, FineTuneJob>> prepareEventSources(EventSourceContext<FineTuneJob> context) {
        var cache = context.getPrimaryCache();
        metrics.countPhasesFrom(() -> cache.list().toList());
        return EventSources.create(context);
    }

    @Override
    public UpdateControl<FineTuneJob> reconcile(FineTuneJob job, Context<FineTuneJob> context) {
        List<JobEvent> warnings = new ArrayList<>();
        Observation observation = observer.observe(job, context, warnings::add);
        Plan plan = LifecyclePlanner.plan(observation);
        String namespace = job.getMetadata().getNamespace();

        if (plan.deleteFineTuneJob()) {
            LOG.infof("deleting %s/%s: ttlSecondsAfterFinished expired", namespace, job.getMetadata().getName());
            context.getClient().resource(job).delete();
            metrics.forget(namespace, job.getMetadata().getName());
            return UpdateControl.noUpdate();
        }
        RenderSettings settings = endpoints.renderSettings();
        if (plan.ensureChildren()) {
            children.ensure(job, plan.status(), settings, context);
        }
        plan.launch().ifPresent(attempt -> children.launch(job, attempt, settings, context));
        for (String name : plan.deleteWorkerJobs()) {
            children.deleteWorkerJob(namespace, name);
        }
        warnings.forEach(e -> events.record(job, e));
        plan.events().forEach(e -> events.record(job, e));
        metrics.update(job, plan.status());

        boolean changedMeanwhile = !sameStatus(job.getStatus(), plan.status()) && writeStatus(job, plan.status(), context);
        UpdateControl<FineTuneJob> control = UpdateControl.noUpdate();
        if (changedMeanwhile) {
            return control.rescheduleAfter(0);
        }
        plan.requeueAfter().filter(d -> !d.isNegative()).ifPresent(d -> control.rescheduleAfter(d.toMillis()));
        return control;
    }

    /**
     * Replaces the status with optimistic locking; on a conflict the status is set again on the newer job from
     * the cache (up to ten times), and the result goes into the cache for the next round. JOSDK 5.3's
     * replacement, {@code context.resourceOperations().updatePrimaryStatus}, does not retry a conflict.
     *
     * <p>Returns whether the job as written differs from the planned one in a way that starts a round (spec,
     * restart request): that change came in between, and JOSDK drops its informer event when it arrives after
     * this write (older than the cached result), so the caller plans again at once.
     */
    @SuppressWarnings("removal")
    private static boolean writeStatus(FineTuneJob job, FineTuneJobStatus status, Context<FineTuneJob> context) {
        FineTuneJob written = PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(job, context, fresh -> {
            fresh.setStatus(status);
            return fresh;
        });
        return written != null && STARTS_A_ROUND.accept(written, job);
    }

    static boolean sameStatus(FineTuneJobStatus a, FineTuneJobStatus b) {
        if (a == null || b == null) {
            return a == b;
        }
        return Objects.equals(TrainerJson.json().valueToTree(a), TrainerJson.json().valueToTree(b));
    }
}
