package dev.finetune.operator.children;

import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.VolumeResolver;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.ResourcesSpec;
import dev.finetune.operator.lifecycle.Attempt;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code <job>-attempt-<n>}: one attempt of the gang as an Indexed batch/v1 Job, {@code workers} pods with
 * stable hostnames ({@code <job>-attempt-<n>-<index>} under the headless Service). backoffLimit is 0 and
 * restartPolicy Never: any pod failure fails the attempt, and the operator, not the Job controller, decides
 * whether the whole gang restarts from the last checkpoint. Pod templates are immutable, so a Job is
 * created once and never updated (like Keycloak's realm-import Job): a new attempt is a new Job.
 */
public final class WorkerJobRenderer {

    /** The worker container's name; the reconciler reads its exit code and termination message. */
    public static final String CONTAINER = "trainer";
    public static final String COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
    static final String CONFIG_VOLUME = "trainer-config";
    static final String SHM_VOLUME = "dshm";
    static final String TMP_VOLUME = "tmp";
    static final String SCRATCH_VOLUME = "scratch";
    public static final String SCRATCH_DIR = "/scratch";
    static final Quantity DEFAULT_SHARED_MEMORY = new Quantity("1Gi");

    private WorkerJobRenderer() {
    }

    public static Job desired(FineTuneJob job, Attempt attempt, RenderSettings settings) {
        String name = job.getMetadata().getName();
        FineTuneJobSpec spec = job.getSpec();
        int workers = spec.getResources().getWorkers();

        Map<String, String> jobLabels = Labels.forChild(name, Labels.COMPONENT_WORKER);
        jobLabels.put(Labels.ATTEMPT, Integer.toString(attempt.number()));
        Map<String, String> podLabels = new LinkedHashMap<>(jobLabels);
        Map<String, String> ownLabels = job.getMetadata().getLabels() == null ? Map.of() : job.getMetadata().getLabels();
        boolean queued = ownLabels.containsKey(Labels.KUEUE_QUEUE_NAME);
        for (String kueueLabel : List.of(Labels.KUEUE_QUEUE_NAME, Labels.KUEUE_PRIORITY_CLASS)) {
            if (ownLabels.containsKey(kueueLabel)) {
                jobLabels.put(kueueLabel, ownLabels.get(kueueLabel));
            }
        }
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(Annotations.RESTARTS, Integer.toString(attempt.restarts()));
        annotations.put(Annotations.DEADLINE_BASE, attempt.deadlineBase().toString());
        annotations.put(Annotations.START_REASON, attempt.startReason());
        if (attempt.resumeFrom() != null) {
            annotations.put(Annotations.RESUME_FROM, attempt.resumeFrom());
        }

        return new JobBuilder()
                .withMetadata(Owners.childMeta(job, Names.workerJob(name, attempt.number()), Labels.COMPONENT_WORKER))
                .editMetadata().withLabels(jobLabels).withAnnotations(annotations).endMetadata()
                .withNewSpec()
                    .withCompletionMode("Indexed")
                    .withCompletions(workers)
                    .withParallelism(workers)
                    .withBackoffLimit(0)
                    // Kueue admits a queued workload by unsuspending it; without a queue the gang starts at once.
                    .withSuspend(queued)
                    .withPodFailurePolicy(queued ? preemptionIsNoFailure() : null)
                    .withNewTemplate()
                        .withNewMetadata().withLabels(podLabels).endMetadata()
                        .withSpec(podSpec(job, attempt, settings))
                    .endTemplate()
                .endSpec()
                .build();
    }

    /**
     * Kueue preempts by suspending the Job: the Job controller deletes the pods, the trainer checkpoints on SIGTERM and
     * exits 143. The Job controller would count each such pod as a failure and, with backoffLimit 0, fail the Job;
     * ignored, the Job stays suspended until Kueue admits it again and then starts the same gang anew.
     */
    static PodFailurePolicy preemptionIsNoFailure() {
        return new PodFailurePolicyBuilder()
                .addNewRule().withAction("Ignore")
                    .withNewOnExitCodes().withOperator("In").withValues(FailureReason.INTERRUPTED.exitCode()).endOnExitCodes()
                .endRule()
                .build();
    }

    static PodSpec podSpec(FineTuneJob job, Attempt attempt, RenderSettings settings) {
        String name = job.getMetadata().getName();
        ResourcesSpec resources = job.getSpec().getResources();
        return new PodSpecBuilder()
                .withRestartPolicy("Never")
                .withSubdomain(Names.service(name))
                .withServiceAccountName(Names.serviceAccount(name))
                .withAutomountServiceAccountToken(true)
                .withEnableServiceLinks(false)
                .withTerminationGracePeriodSeconds(settings.terminationGracePeriodSeconds())
                .withNodeSelector(resources.getNodeSelector())
                .withTolerations(resources.getTolerations())
                .withPriorityClassName(resources.getPriorityClassName())
                .withSecurityContext(new PodSecurityContextBuilder()
                        .withRunAsNonRoot(true)
                        .withRunAsUser(settings.runAsUser())
                        .withRunAsGroup(settings.runAsGroup())
                        .withFsGroup(settings.runAsGroup())
                        .withFsGroupChangePolicy("OnRootMismatch")
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                        .build())
                .withInitContainers(SourceInitRenderer.initContainers(job, settings, volumeMounts(job)))
                .withContainers(container(job, attempt, settings))
                .withVolumes(volumes(job))
                .build();
    }

    static Container container(FineTuneJob job, Attempt attempt, RenderSettings settings) {
        return new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(image(job, settings))
                .withImagePullPolicy(settings.imagePullPolicy())
                .withEnv(env(job, attempt, settings))
                .addNewPort().withName("rendezvous").withContainerPort(TrainerConfigs.DEFAULT_RENDEZVOUS_PORT).withProtocol("TCP").endPort()
                .withResources(resources(job.getSpec().getResources()))
                .withVolumeMounts(trainerMounts(job))
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withSecurityContext(RestrictedContainer.securityContext())
                .build();
    }

    /** spec.image, else the operator's image for GPU or CPU jobs. */
    public static String image(FineTuneJob job, RenderSettings settings) {
        String image = job.getSpec().getImage();
        if (image != null && !image.isBlank()) {
            return image;
        }
        return job.getSpec().getResources().getGpus() > 0 ? settings.gpuImage() : settings.cpuImage();
    }

    static List<EnvVar> env(FineTuneJob job, Attempt attempt, RenderSettings settings) {
        String name = job.getMetadata().getName();
        ResourcesSpec resources = job.getSpec().getResources();
        List<EnvVar> env = new ArrayList<>();
        env.add(value(TrainerConfigs.CONFIG_FILE_ENV, TrainerConfigs.IN_CLUSTER_CONFIG_FILE));
        env.add(value("FINETUNE_JOB_NAME", name));
        env.add(value("FINETUNE_ATTEMPT", Integer.toString(attempt.number())));
        env.add(value("MASTER_ADDR", Names.rendezvousHost(name, job.getMetadata().getNamespace(), attempt.number())));
        env.add(value("MASTER_PORT", Integer.toString(TrainerConfigs.DEFAULT_RENDEZVOUS_PORT)));
        env.add(value("WORLD_SIZE", Integer.toString(resources.worldSize())));
        env.add(value("NNODES", Integer.toString(resources.getWorkers())));
        env.add(new EnvVarBuilder().withName("NODE_RANK").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.annotations['" + COMPLETION_INDEX_ANNOTATION + "']").endFieldRef().endValueFrom().build());
        if (Math.max(resources.getGpus(), 1) == 1) {
            // One process per pod: its global rank is the pod's index (with more, the trainer derives
            // RANK = NODE_RANK x LOCAL_WORLD_SIZE + LOCAL_RANK for each process it starts).
            env.add(new EnvVarBuilder().withName("RANK").withNewValueFrom().withNewFieldRef()
                    .withFieldPath("metadata.annotations['" + COMPLETION_INDEX_ANNOTATION + "']").endFieldRef().endValueFrom().build());
        }
        if (resources.getCpu() != null && Math.max(resources.getGpus(), 1) == 1) {
            // libtorch sizes its thread pool from the node's cores, not the pod's CPU limit: on a big node a
            // small pod would oversubscribe its quota and spin (10x slower steps measured). The limit, rounded up.
            env.add(new EnvVarBuilder().withName("OMP_NUM_THREADS").withNewValueFrom().withNewResourceFieldRef()
                    .withResource("limits.cpu").withDivisor(new Quantity("1")).endResourceFieldRef().endValueFrom().build());
        }
        env.add(value("LOCAL_WORLD_SIZE", Integer.toString(Math.max(resources.getGpus(), 1))));
        env.add(value("NPROC_PER_NODE", Integer.toString(Math.max(resources.getGpus(), 1))));
        env.add(fieldRef("POD_NAME", "metadata.name"));
        env.add(fieldRef("POD_NAMESPACE", "metadata.namespace"));
        // Read by libnccl itself: quiet but useful logs, and InfiniBand retries that outlast a switch hiccup.
        // A dead peer is the trainer's watchdog's job (FINETUNE_COLLECTIVE_TIMEOUT_SECONDS, docs/distributed.md).
        env.add(value("NCCL_DEBUG", "WARN"));
        env.add(value("NCCL_IB_TIMEOUT", "22"));
        env.add(value("FINETUNE_COLLECTIVE_TIMEOUT_SECONDS", Long.toString(settings.collectiveTimeoutSeconds())));
        env.add(value("FINETUNE_RENDEZVOUS_TIMEOUT_SECONDS", Long.toString(settings.rendezvousTimeoutSeconds())));
        // the trainer's SIGTERM checkpoint may take as long as the kubelet waits before SIGKILL
        env.add(value("FINETUNE_TERMINATION_GRACE_SECONDS", Long.toString(settings.terminationGracePeriodSeconds())));
        // The root filesystem is read-only: everything that writes goes to the scratch volumes.
        env.add(value("HOME", "/tmp"));
        env.add(value("TMPDIR", "/tmp"));
        env.add(value("FINETUNE_SCRATCH", SCRATCH_DIR));
        env.addAll(SourceInitRenderer.trainerEnv(job.getSpec()));
        return env;
    }

    static ResourceRequirements resources(ResourcesSpec resources) {
        Map<String, Quantity> amounts = new LinkedHashMap<>();
        if (resources.getCpu() != null) {
            amounts.put("cpu", resources.getCpu());
        }
        if (resources.getMemory() != null) {
            amounts.put("memory", resources.getMemory());
        }
        if (resources.getGpus() > 0) {
            amounts.put(resources.getGpuResourceName(), new Quantity(Integer.toString(resources.getGpus())));
        }
        return new ResourceRequirementsBuilder().withRequests(amounts).withLimits(new LinkedHashMap<>(amounts)).build();
    }

    /** spec.resources.sharedMemory, else half of the memory limit, else 1Gi. */
    public static Quantity sharedMemory(ResourcesSpec resources) {
        if (resources.getSharedMemory() != null) {
            return resources.getSharedMemory();
        }
        if (resources.getMemory() != null) {
            BigDecimal half = resources.getMemory().getNumericalAmount().divide(BigDecimal.valueOf(2));
            return new Quantity(half.toBigInteger().divide(java.math.BigInteger.valueOf(1024 * 1024)) + "Mi");
        }
        return DEFAULT_SHARED_MEMORY;
    }

    /** Each distinct claim once, in the order model, dataset, output. */
    public static List<String> claims(FineTuneJobSpec spec) {
        Set<String> claims = new LinkedHashSet<>();
        claims.add(spec.getModel().getPvc().getClaimName());
        claims.add(spec.getDataset().getPvc().getClaimName());
        claims.add(spec.getOutput().getPvc().getClaimName());
        return List.copyOf(claims);
    }

    static List<Volume> volumes(FineTuneJob job) {
        FineTuneJobSpec spec = job.getSpec();
        List<Volume> volumes = new ArrayList<>();
        volumes.add(new VolumeBuilder().withName(CONFIG_VOLUME).withNewConfigMap()
                .withName(Names.configMap(job.getMetadata().getName())).endConfigMap().build());
        volumes.add(new VolumeBuilder().withName(SHM_VOLUME).withNewEmptyDir()
                .withMedium("Memory").withSizeLimit(sharedMemory(spec.getResources())).endEmptyDir().build());
        volumes.add(new VolumeBuilder().withName(TMP_VOLUME).withNewEmptyDir().endEmptyDir().build());
        volumes.add(new VolumeBuilder().withName(SCRATCH_VOLUME).withNewEmptyDir().endEmptyDir().build());
        List<String> claims = claims(spec);
        String outputClaim = spec.getOutput().getPvc().getClaimName();
        Set<String> caches = SourceInitRenderer.cacheClaims(spec);
        for (int i = 0; i < claims.size(); i++) {
            String claim = claims.get(i);
            // a source's cache claim is written by the initializer; the trainer still mounts it read-only
            volumes.add(new VolumeBuilder().withName(claimVolume(i)).withNewPersistentVolumeClaim().withClaimName(claim)
                    .withReadOnly(!claim.equals(outputClaim) && !caches.contains(claim)).endPersistentVolumeClaim().build());
        }
        volumes.addAll(SourceInitRenderer.volumes(spec));
        return volumes;
    }

    static List<VolumeMount> volumeMounts(FineTuneJob job) {
        FineTuneJobSpec spec = job.getSpec();
        List<VolumeMount> mounts = new ArrayList<>();
        String configDir = TrainerConfigs.IN_CLUSTER_CONFIG_FILE.substring(0, TrainerConfigs.IN_CLUSTER_CONFIG_FILE.lastIndexOf('/'));
        mounts.add(new VolumeMountBuilder().withName(CONFIG_VOLUME).withMountPath(configDir).withReadOnly(true).build());
        mounts.add(new VolumeMountBuilder().withName(SHM_VOLUME).withMountPath("/dev/shm").build());
        mounts.add(new VolumeMountBuilder().withName(TMP_VOLUME).withMountPath("/tmp").build());
        mounts.add(new VolumeMountBuilder().withName(SCRATCH_VOLUME).withMountPath(SCRATCH_DIR).build());
        List<String> claims = claims(spec);
        String outputClaim = spec.getOutput().getPvc().getClaimName();
        for (int i = 0; i < claims.size(); i++) {
            String claim = claims.get(i);
            mounts.add(new VolumeMountBuilder().withName(claimVolume(i))
                    .withMountPath(VolumeResolver.inCluster().root(claim).toString())
                    .withReadOnly(!claim.equals(outputClaim)).build());
        }
        return mounts;
    }

    /** The trainer container's mounts: the shared ones and output.push's credentials. */
    static List<VolumeMount> trainerMounts(FineTuneJob job) {
        List<VolumeMount> mounts = new ArrayList<>(volumeMounts(job));
        mounts.addAll(SourceInitRenderer.trainerMounts(job.getSpec()));
        return mounts;
    }

    private static String claimVolume(int index) {
        return "claim-" + index;
    }

    private static EnvVar value(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    private static EnvVar fieldRef(String name, String path) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef().withFieldPath(path).endFieldRef().endValueFrom().build();
    }
}
