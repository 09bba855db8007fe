package dev.finetune.operator.reconcile;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.operator.children.Labels;
import dev.finetune.operator.children.WorkerJobRenderer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The informers the reconciler reads from. Children are label-selected (only what this operator made is
 * cached) and mapped to their job by owner reference; worker pods, owned by their batch Job, by the job label;
 * PersistentVolumeClaims, owned by nobody we know, through an index of the claims each job names, so a claim
 * that binds re-validates the jobs waiting for it. Every cache, the jobs' own included, keeps its objects
 * {@link WithoutManagedFields}.
 */
public final class EventSources {

    public static final String CLAIM_INDEX = "finetune.dev/claims";
    public static final String OUTPUT_CLAIM_INDEX = "finetune.dev/output-claim";

    /** Children types whose informers are owner-mapped. */
    static final List<Class<? extends HasMetadata>> OWNED = List.of(ConfigMap.class, Service.class, ServiceAccount.class,
            Role.class, RoleBinding.class, NetworkPolicy.class, Job.class);

    private EventSources() {
    }

    static List<EventSource<?, FineTuneJob>> create(EventSourceContext<FineTuneJob> context) {
        context.getPrimaryCache().addIndexers(Map.of(
                CLAIM_INDEX, job -> job.getSpec() == null ? List.of()
                        : WorkerJobRenderer.claims(job.getSpec()).stream().map(c -> key(job.getMetadata().getNamespace(), c)).toList(),
                OUTPUT_CLAIM_INDEX, job -> outputClaim(job)));
        List<EventSource<?, FineTuneJob>> sources = new ArrayList<>();
        for (Class<? extends HasMetadata> type : OWNED) {
            sources.add(owned(type, context));
        }
        sources.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, FineTuneJob.class)
                .withLabelSelector(Labels.MANAGED_SELECTOR + "," + Labels.COMPONENT + "=" + Labels.COMPONENT_WORKER)
                .withSecondaryToPrimaryMapper(pod -> {
                    String job = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(Labels.JOB);
                    return job == null ? Set.of() : Set.of(new ResourceID(job, pod.getMetadata().getNamespace()));
                })
                .withItemStore(new WithoutManagedFields<>())
                .build(), context));
        var cache = context.getPrimaryCache();
        sources.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(PersistentVolumeClaim.class, FineTuneJob.class)
                .withSecondaryToPrimaryMapper(pvc -> cache.byIndex(CLAIM_INDEX, key(pvc.getMetadata().getNamespace(), pvc.getMetadata().getName()))
                        .stream().map(ResourceID::fromResource).collect(Collectors.toSet()))
                .withPrimaryToSecondaryMapper((FineTuneJob job) -> job.getSpec() == null ? Set.of()
                        : WorkerJobRenderer.claims(job.getSpec()).stream()
                                .map(c -> new ResourceID(c, job.getMetadata().getNamespace())).collect(Collectors.toSet()))
                .withItemStore(new WithoutManagedFields<>())
                .build(), context));
        return sources;
    }

    private static <R extends HasMetadata> InformerEventSource<R, FineTuneJob> owned(Class<R> type, EventSourceContext<FineTuneJob> context) {
        return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, FineTuneJob.class)
                .withLabelSelector(Labels.MANAGED_SELECTOR)
                .withItemStore(new WithoutManagedFields<>())
                .build(), context);
    }

    static List<String> outputClaim(FineTuneJob job) {
        FineTuneJobSpec spec = job.getSpec();
        if (spec == null || spec.getOutput() == null || spec.getOutput().getPvc() == null) {
            return List.of();
        }
        return List.of(key(job.getMetadata().getNamespace(), spec.getOutput().getPvc().getClaimName()));
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }
}
