package dev.finetune.operator.reconcile;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.operator.children.NetworkPolicyRenderer;
import dev.finetune.operator.children.ProgressConfigMapRenderer;
import dev.finetune.operator.children.ProgressIdentityRenderer;
import dev.finetune.operator.children.RenderSettings;
import dev.finetune.operator.children.RendezvousServiceRenderer;
import dev.finetune.operator.children.TrainerConfigMapRenderer;
import dev.finetune.operator.children.WorkerJobRenderer;
import dev.finetune.operator.lifecycle.Attempt;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Optional;

/**
 * Writes the children the renderers in {@code children} describe. Everything is create-if-missing (the
 * informer cache says what exists, and a fresh create is put into the cache at once so the next round never
 * creates it twice) except the trainer config and the NetworkPolicy, which are updated when they differ.
 * Worker Jobs are never updated: a new attempt is a new Job.
 */
final class ChildWriter {

    private final KubernetesClient client;

    ChildWriter(KubernetesClient client) {
        this.client = client;
    }

    void ensure(FineTuneJob job, FineTuneJobStatus status, RenderSettings settings, Context<FineTuneJob> context) {
        String resumeFrom = status.getLastCheckpoint() == null ? null : status.getLastCheckpoint().path();
        ConfigMap config = TrainerConfigMapRenderer.desired(job, Math.max(status.getAttempt(), 1), resumeFrom);
        Optional<ConfigMap> liveConfig = cached(context, ConfigMap.class, config);
        if (liveConfig.isEmpty()) {
            create(context, ConfigMap.class, config);
        } else if (!TrainerConfigMapRenderer.matches(liveConfig.get(), config)) {
            ConfigMap updated = new io.fabric8.kubernetes.api.model.ConfigMapBuilder(liveConfig.get()).withData(config.getData()).build();
            recordUpdate(context, ConfigMap.class, liveConfig.get(), client.resource(updated).update());
        }
        createIfMissing(context, ConfigMap.class, ProgressConfigMapRenderer.desired(job));
        createIfMissing(context, Service.class, RendezvousServiceRenderer.desired(job));
        createIfMissing(context, ServiceAccount.class, ProgressIdentityRenderer.serviceAccount(job));
        createIfMissing(context, Role.class, ProgressIdentityRenderer.role(job));
        createIfMissing(context, RoleBinding.class, ProgressIdentityRenderer.roleBinding(job));
        if (settings.networkPolicy()) {
            NetworkPolicy policy = NetworkPolicyRenderer.desired(job, settings);
            Optional<NetworkPolicy> live = cached(context, NetworkPolicy.class, policy);
            if (live.isEmpty()) {
                create(context, NetworkPolicy.class, policy);
            } else if (!NetworkPolicyRenderer.matches(live.get(), policy)) {
                NetworkPolicy updated = new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder(live.get())
                        .withSpec(policy.getSpec()).build();
                recordUpdate(context, NetworkPolicy.class, live.get(), client.resource(updated).update());
            }
        }
    }

    void launch(FineTuneJob job, Attempt attempt, RenderSettings settings, Context<FineTuneJob> context) {
        createIfMissing(context, Job.class, WorkerJobRenderer.desired(job, attempt, settings));
    }

    /** Deletes a worker Job now; its pods get SIGTERM (a checkpoint on the way down) and are removed in the background. */
    void deleteWorkerJob(String namespace, String name) {
        client.batch().v1().jobs().inNamespace(namespace).withName(name)
                .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
    }

    private <R extends HasMetadata> void createIfMissing(Context<FineTuneJob> context, Class<R> type, R desired) {
        if (cached(context, type, desired).isEmpty()) {
            create(context, type, desired);
        }
    }

    private <R extends HasMetadata> Optional<R> cached(Context<FineTuneJob> context, Class<R> type, R desired) {
        return informer(context, type).get(ResourceID.fromResource(desired));
    }

    private <R extends HasMetadata> void create(Context<FineTuneJob> context, Class<R> type, R desired) {
        try {
            R created = client.resource(desired).create();
            informer(context, type).handleRecentResourceCreate(ResourceID.fromResource(created), created);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // It exists and the cache has not seen it yet (or it belongs to someone else; then status says so next round).
        }
    }

    private <R extends HasMetadata> void recordUpdate(Context<FineTuneJob> context, Class<R> type, R before, R after) {
        informer(context, type).handleRecentResourceUpdate(ResourceID.fromResource(after), after, before);
    }

    @SuppressWarnings("unchecked")
    private static <R extends HasMetadata> InformerEventSource<R, FineTuneJob> informer(Context<FineTuneJob> context, Class<R> type) {
        return (InformerEventSource<R, FineTuneJob>) context.eventSourceRetriever().getEventSourceFor(type);
    }
}
