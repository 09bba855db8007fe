package dev.finetune.operator.reconcile;

import org.awaitility.Awaitility;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.Labels;
import dev.finetune.operator.children.Names;
import dev.finetune.operator.children.SourceInitRenderer;
import dev.finetune.operator.children.WorkerJobRenderer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Plays the parts of the cluster the mock API server does not: the Job controller and kubelet (pods,
 * their status, exit codes, termination messages) and rank 0 (progress reports).
 */
public final class SimulatedCluster {

    public static final Duration WAIT = Duration.ofSeconds(20);
    private final KubernetesClient client;

    public SimulatedCluster(KubernetesClient client) {
        this.client = client;
    }

    public static void installCrd(KubernetesClient client) throws IOException {
        Path crd = Path.of(System.getProperty("repo.root", "..")).resolve("crds/finetunejobs.finetune.dev-v1.yml");
        try (InputStream in = Files.newInputStream(crd)) {
            CustomResourceDefinition definition = client.apiextensions().v1().customResourceDefinitions().load(in).item();
            client.apiextensions().v1().customResourceDefinitions().resource(definition).createOr(r -> r.update());
        }
    }

    public void boundClaims(String namespace, String... names) {
        for (String name : names) {
            client.persistentVolumeClaims().inNamespace(namespace).resource(Fixtures.pvc(namespace, name, "Bound")).createOr(r -> r.update());
        }
    }

    public FineTuneJob create(FineTuneJob job) {
        job.getMetadata().setUid(null);
        job.getMetadata().setCreationTimestamp(null);
        job.getMetadata().setGeneration(null);
        return client.resource(job).create();
    }

    public FineTuneJob get(String namespace, String name) {
        return client.resources(FineTuneJob.class).inNamespace(namespace).withName(name).get();
    }

    public FineTuneJob await(String namespace, String name, Predicate<FineTuneJob> condition) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            FineTuneJob job = get(namespace, name);
            return job != null && condition.test(job);
        });
        return get(namespace, name);
    }

    public static void awaitGone(java.util.function.Supplier<?> lookup) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> lookup.get() == null);
    }

    public Job workerJob(String namespace, String name, int attempt) {
        return client.batch().v1().jobs().inNamespace(namespace).withName(Names.workerJob(name, attempt)).get();
    }

    public Job awaitWorkerJob(String namespace, String name, int attempt) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> workerJob(namespace, name, attempt) != null);
        return workerJob(namespace, name, attempt);
    }

    /** The kubelet: every worker pod of the attempt running and ready. */
    public void runWorkers(String namespace, String name, int attempt, int workers) {
        for (int index = 0; index < workers; index++) {
            Pod pod = pod(namespace, name, attempt, index);
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                    .withPhase("Running")
                    .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
                    .addNewCondition().withType("Ready").withStatus("True").endCondition()
                    .addNewContainerStatus().withName(WorkerJobRenderer.CONTAINER).withReady(true)
                        .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState()
                    .endContainerStatus()
                    .build());
            client.resource(pod).createOr(r -> r.update());
        }
    }

    /** The kubelet: every worker pod of the attempt running its source initializer (the trainer waits). */
    public void initializeWorkers(String namespace, String name, int attempt, int workers) {
        for (int index = 0; index < workers; index++) {
            Pod pod = pod(namespace, name, attempt, index);
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                    .withPhase("Pending")
                    .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
                    .addNewInitContainerStatus().withName(SourceInitRenderer.INIT_CONTAINER).withReady(false)
                        .withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState()
                    .endInitContainerStatus()
                    .addNewContainerStatus().withName(WorkerJobRenderer.CONTAINER).withReady(false)
                        .withNewState().withNewWaiting().withReason("PodInitializing").endWaiting().endState()
                    .endContainerStatus()
                    .build());
            client.resource(pod).createOr(r -> r.update());
        }
    }

    /** The kubelet: worker {@code index} of the attempt exited with {@code exitCode}. */
    public void exitWorker(String namespace, String name, int attempt, int index, int exitCode, String reason, String message) {
        Pod pod = pod(namespace, name, attempt, index);
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                .addNewContainerStatus().withName(WorkerJobRenderer.CONTAINER).withReady(false)
                    .withNewState().withNewTerminated().withExitCode(exitCode).withReason(reason).withMessage(message)
                        .withFinishedAt("2026-01-01T01:00:00Z").endTerminated().endState()
                .endContainerStatus()
                .build());
        client.resource(pod).createOr(r -> r.update());
    }

    /** The garbage collector and kubelet after a worker Job is deleted: the attempt's pods are gone. */
    public void removeWorkers(String namespace, String name, int attempt) {
        client.pods().inNamespace(namespace).withLabel(Labels.ATTEMPT, Integer.toString(attempt)).list().getItems().stream()
                .filter(p -> name.equals(p.getMetadata().getLabels().get(Labels.JOB)))
                .forEach(p -> client.resource(p).delete());
    }

    /**
     * What {@code kubectl annotate --overwrite} and Argo CD's restart action do: a new restart request, as a merge
     * patch (no resourceVersion, so the operator's status writes cannot make it conflict).
     */
    public void requestRestart(String namespace, String name, String requestedAt) {
        patch(namespace, name, Map.of("metadata", Map.of("annotations", Map.of(FineTuneJob.RESTART_REQUESTED_AT, requestedAt))));
    }

    /** A JSON merge patch of the job, as {@code kubectl patch --type merge} sends it. */
    public void patch(String namespace, String name, Map<String, Object> patch) {
        client.resources(FineTuneJob.class).inNamespace(namespace).withName(name)
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        TrainerJson.write(patch));
    }

    /**
     * The Job controller: the attempt's Job gets condition {@code type} (Complete or Failed). A Job the operator has
     * already deleted (it restarts a gang on a worker's retryable exit alone) gets nothing, as with the real one.
     */
    public void finishWorkerJob(String namespace, String name, int attempt, String type) {
        Job job = workerJob(namespace, name, attempt);
        if (job == null) {
            return;
        }
        Job updated = new JobBuilder(job).withNewStatus()
                .addNewCondition().withType(type).withStatus("True").withReason(type.equals("Failed") ? "BackoffLimitExceeded" : "Completed")
                    .withMessage(type.equals("Failed") ? "Job has reached the specified backoff limit" : "").endCondition()
                .withSucceeded(type.equals("Complete") ? job.getSpec().getCompletions() : 0)
                .withFailed(type.equals("Failed") ? 1 : 0)
                .endStatus().build();
        try {
            client.resource(updated).updateStatus();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        }
    }

    /** Kueue admits the attempt's Job: it unsuspends it, and the Job controller records the start. */
    public void kueueAdmits(String namespace, String name, int attempt) {
        Job job = workerJob(namespace, name, attempt);
        client.resource(new JobBuilder(job).editSpec().withSuspend(false).endSpec().build()).update();
        Job admitted = workerJob(namespace, name, attempt);
        client.resource(new JobBuilder(admitted).withNewStatus().withStartTime("2026-01-01T00:00:00Z").endStatus().build())
                .updateStatus();
    }

    /** Kueue preempts the attempt's Job: it suspends it again and resets its start time. */
    public void kueueSuspends(String namespace, String name, int attempt) {
        Job job = workerJob(namespace, name, attempt);
        client.resource(new JobBuilder(job).editSpec().withSuspend(true).endSpec().build()).update();
        Job suspended = workerJob(namespace, name, attempt);
        client.resource(new JobBuilder(suspended).withNewStatus().endStatus().build()).updateStatus();
    }

    /** Kueue's Workload of the attempt's Job, evicted for {@code evicted} and waiting because of {@code pending}. */
    public void kueueWorkload(String namespace, String name, int attempt, String evicted, String pending) {
        Job job = workerJob(namespace, name, attempt);
        GenericKubernetesResource workload = new GenericKubernetesResourceBuilder()
                .withApiVersion("kueue.x-k8s.io/v1beta2").withKind("Workload")
                .withNewMetadata().withName("job-" + job.getMetadata().getName() + "-1a2b3").withNamespace(namespace)
                    .addToLabels(KueueWorkloads.JOB_UID_LABEL, job.getMetadata().getUid()).endMetadata()
                .addToAdditionalProperties("status", Map.of("conditions", java.util.List.of(
                        Map.of("type", "QuotaReserved", "status", "False", "reason", "Pending", "message", pending),
                        Map.of("type", "Evicted", "status", "True", "reason", "Preempted", "message", evicted))))
                .build();
        client.genericKubernetesResources(KueueWorkloads.WORKLOADS).inNamespace(namespace).resource(workload).create();
    }

    /** Rank 0: replaces the report in {@code <job>-progress}, as the trainer's PATCH does. */
    public void report(String namespace, String name, ProgressReport report) {
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName(Names.progressConfigMap(name)).get();
        ConfigMap updated = new ConfigMapBuilder(cm).addToData(TrainerConfigs.PROGRESS_KEY, TrainerJson.write(report)).build();
        client.resource(updated).update();
    }

    /** Rank 0's initializer: replaces its report in {@code <job>-progress} (key initialize.json), beside the trainer's. */
    public void initializerReport(String namespace, String name, ProgressReport report) {
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName(Names.progressConfigMap(name)).get();
        ConfigMap updated = new ConfigMapBuilder(cm).addToData(TrainerConfigs.INITIALIZER_PROGRESS_KEY, TrainerJson.write(report))
                .build();
        client.resource(updated).update();
    }

    private Pod pod(String namespace, String name, int attempt, int index) {
        String jobName = Names.workerJob(name, attempt);
        return new PodBuilder()
                .withNewMetadata()
                    .withName(jobName + "-" + index + "-abcde")
                    .withNamespace(namespace)
                    .addToLabels(Labels.forChild(name, Labels.COMPONENT_WORKER))
                    .addToLabels(Labels.ATTEMPT, Integer.toString(attempt))
                    .addToAnnotations(WorkerJobRenderer.COMPLETION_INDEX_ANNOTATION, Integer.toString(index))
                .endMetadata()
                .withNewSpec().addNewContainer().withName(WorkerJobRenderer.CONTAINER).withImage("trainer").endContainer().endSpec()
                .build();
    }
}
