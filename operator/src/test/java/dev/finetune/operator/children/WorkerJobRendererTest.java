package dev.finetune.operator.children;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.lifecycle.Attempt;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class WorkerJobRendererTest {

    static final RenderSettings SETTINGS = Fixtures.renderSettings("registry.example/trainer:1.0");
    static final Attempt ATTEMPT_3 = new Attempt(3, 2, "runs/x/checkpoint-200",
            Instant.parse("2026-01-01T00:00:00Z"), "Restarted");

    static Job render(FineTuneJob job) {
        return WorkerJobRenderer.desired(job, ATTEMPT_3, SETTINGS);
    }

    static Map<String, EnvVar> env(Container c) {
        return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, Function.identity()));
    }

    @Test
    void gangIsAnIndexedJobWithoutJobControllerRetries() {
        Job job = render(Fixtures.job("ns", "qwen"));
        assertThat(job.getMetadata().getName()).isEqualTo("qwen-attempt-3");
        assertThat(job.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(o -> assertThat(o.getController()).isTrue())
                .satisfies(o -> assertThat(o.getKind()).isEqualTo("FineTuneJob"));
        assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
        assertThat(job.getSpec().getCompletions()).isEqualTo(2);
        assertThat(job.getSpec().getParallelism()).isEqualTo(2);
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getSuspend()).isFalse();
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getSubdomain()).isEqualTo("qwen-workers");
        assertThat(pod.getServiceAccountName()).isEqualTo("qwen-trainer");
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry(Labels.JOB, "qwen").containsEntry(Labels.ATTEMPT, "3").containsEntry(Labels.MANAGED_BY, "finetune-operator");
        assertThat(job.getMetadata().getAnnotations()).containsEntry(Annotations.RESUME_FROM, "runs/x/checkpoint-200")
                .containsEntry(Annotations.RESTARTS, "2");
    }

    @Test
    void distributedEnvironmentNamesRankZeroAndTheGangShape() {
        Container c = render(Fixtures.job("team-a", "qwen")).getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, EnvVar> env = env(c);
        assertThat(env.get("MASTER_ADDR").getValue()).isEqualTo("qwen-attempt-3-0.qwen-workers.team-a.svc");
        assertThat(env.get("MASTER_PORT").getValue()).isEqualTo("29500");
        assertThat(env.get("WORLD_SIZE").getValue()).isEqualTo("8");
        assertThat(env.get("NNODES").getValue()).isEqualTo("2");
        assertThat(env.get("LOCAL_WORLD_SIZE").getValue()).isEqualTo("4");
        assertThat(env.get("NODE_RANK").getValueFrom().getFieldRef().getFieldPath())
                .isEqualTo("metadata.annotations['batch.kubernetes.io/job-completion-index']");
        assertThat(env).doesNotContainKey("RANK"); // 4 processes per pod: the trainer sets each one's rank
        assertThat(env.get("FINETUNE_CONFIG").getValue()).isEqualTo("/etc/finetune/trainer-config.json");
        assertThat(env.get("FINETUNE_ATTEMPT").getValue()).isEqualTo("3");
        // PyTorch's process-group variables would do nothing: the trainer runs its own NCCL watchdog
        assertThat(env.keySet()).noneMatch(k -> k.startsWith("TORCH_NCCL_") || k.equals("NCCL_ASYNC_ERROR_HANDLING"));
        assertThat(env.get("NCCL_DEBUG").getValue()).isEqualTo("WARN");
        assertThat(env.get("FINETUNE_COLLECTIVE_TIMEOUT_SECONDS").getValue()).isEqualTo("1800");
        assertThat(env.get("FINETUNE_TERMINATION_GRACE_SECONDS").getValue()).isEqualTo("120");
        assertThat(c.getImage()).isEqualTo("registry.example/trainer:1.0");
        assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    }

    @Test
    void resourcesRequestGpusOfTheConfiguredKind() {
        FineTuneJob spec = Fixtures.job("ns", "qwen");
        spec.getSpec().getResources().setGpuResourceName("amd.com/gpu");
        Container c = render(spec).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(c.getResources().getLimits()).containsEntry("amd.com/gpu", new Quantity("4"))
                .containsEntry("memory", new Quantity("64Gi")).containsEntry("cpu", new Quantity("8"))
                .doesNotContainKey("nvidia.com/gpu");
        assertThat(c.getResources().getRequests()).isEqualTo(c.getResources().getLimits());
    }

    @Test
    void cpuJobsRequestNoGpuAndUseTheCpuImage() {
        FineTuneJob spec = Fixtures.job("ns", "tiny");
        spec.getSpec().getResources().setGpus(0);
        spec.getSpec().getResources().setWorkers(1);
        RenderSettings settings = new RenderSettings("gpu:1", "cpu:1", "IfNotPresent", 1000, 1000, 120, 1800, 900, true,
                java.util.List.of(), java.util.List.of());
        Container c = WorkerJobRenderer.desired(spec, ATTEMPT_3, settings).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("cpu:1");
        assertThat(c.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(env(c).get("WORLD_SIZE").getValue()).isEqualTo("1");
        assertThat(env(c).get("RANK").getValueFrom().getFieldRef().getFieldPath())
                .isEqualTo("metadata.annotations['batch.kubernetes.io/job-completion-index']");
        assertThat(env(c).get("OMP_NUM_THREADS").getValueFrom().getResourceFieldRef().getResource()).isEqualTo("limits.cpu");
        assertThat(env(c).get("OMP_NUM_THREADS").getValueFrom().getResourceFieldRef().getDivisor()).isEqualTo(new Quantity("1"));
        spec.getSpec().setImage("mine:2");
        assertThat(WorkerJobRenderer.image(spec, settings)).isEqualTo("mine:2");
    }

    @Test
    void podsRunLockedDown() {
        PodSpec pod = render(Fixtures.job("ns", "qwen")).getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getSecurityContext().getFsGroupChangePolicy()).isEqualTo("OnRootMismatch");
        var sc = pod.getContainers().get(0).getSecurityContext();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getPrivileged()).isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(pod.getEnableServiceLinks()).isFalse();
    }

    @Test
    void eachClaimIsMountedOnceAndOnlyTheOutputClaimIsWritable() {
        FineTuneJob spec = Fixtures.job("ns", "qwen");
        spec.getSpec().getDataset().getPvc().setClaimName("models"); // model and data share a claim
        PodSpec pod = render(spec).getSpec().getTemplate().getSpec();
        Map<String, VolumeMount> mounts = pod.getContainers().get(0).getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, Function.identity()));
        assertThat(mounts).containsKeys("/mnt/volumes/models", "/mnt/volumes/outputs", "/dev/shm", "/tmp", "/scratch",
                "/etc/finetune");
        assertThat(mounts.keySet().stream().filter(p -> p.startsWith("/mnt/volumes/"))).hasSize(2);
        assertThat(mounts.get("/mnt/volumes/models").getReadOnly()).isTrue();
        assertThat(mounts.get("/mnt/volumes/outputs").getReadOnly()).isFalse();
        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, Function.identity()));
        assertThat(volumes.get(mounts.get("/mnt/volumes/models").getName()).getPersistentVolumeClaim().getReadOnly()).isTrue();
        assertThat(volumes.get("trainer-config").getConfigMap().getName()).isEqualTo("qwen-config");

        spec.getSpec().getOutput().getPvc().setClaimName("models"); // everything on one claim: writable, once
        pod = render(spec).getSpec().getTemplate().getSpec();
        assertThat(pod.getContainers().get(0).getVolumeMounts().stream().filter(m -> m.getMountPath().startsWith("/mnt/volumes/")))
                .singleElement().satisfies(m -> assertThat(m.getReadOnly()).isFalse());
    }

    @Test
    void sharedMemoryDefaultsToHalfTheMemoryElseOneGibibyte() {
        FineTuneJob spec = Fixtures.job("ns", "qwen");
        assertThat(WorkerJobRenderer.sharedMemory(spec.getSpec().getResources())).isEqualTo(new Quantity("32768Mi"));
        Volume shm = render(spec).getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals("dshm")).findFirst().orElseThrow();
        assertThat(shm.getEmptyDir().getMedium()).isEqualTo("Memory");
        assertThat(shm.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("32768Mi"));
        spec.getSpec().getResources().setSharedMemory(new Quantity("8Gi"));
        assertThat(WorkerJobRenderer.sharedMemory(spec.getSpec().getResources())).isEqualTo(new Quantity("8Gi"));
        spec.getSpec().getResources().setSharedMemory(null);
        spec.getSpec().getResources().setMemory(null);
        assertThat(WorkerJobRenderer.sharedMemory(spec.getSpec().getResources())).isEqualTo(new Quantity("1Gi"));
    }

    @Test
    void kueueQueueLabelGoesOnTheJobAndTheJobStartsSuspended() {
        FineTuneJob spec = Fixtures.job("ns", "qwen");
        spec.getMetadata().setLabels(Map.of(Labels.KUEUE_QUEUE_NAME, "team-a", Labels.KUEUE_PRIORITY_CLASS, "high"));
        Job job = render(spec);
        assertThat(job.getMetadata().getLabels()).containsEntry(Labels.KUEUE_QUEUE_NAME, "team-a")
                .containsEntry(Labels.KUEUE_PRIORITY_CLASS, "high");
        assertThat(job.getSpec().getSuspend()).isTrue();
    }

    @Test
    void aQueuedJobIgnoresTheExitOfAWorkerStoppedByPreemption() {
        FineTuneJob queued = Fixtures.job("ns", "run");
        queued.getMetadata().setLabels(Map.of(Labels.KUEUE_QUEUE_NAME, "team-a"));
        Job job = WorkerJobRenderer.desired(queued, new Attempt(1, 0, null, Instant.parse("2026-01-01T00:00:00Z"), "Started"),
                Fixtures.renderSettings("t"));
        var rules = job.getSpec().getPodFailurePolicy().getRules();
        assertThat(rules).hasSize(1);
        assertThat(rules.getFirst().getAction()).isEqualTo("Ignore");
        assertThat(rules.getFirst().getOnExitCodes().getOperator()).isEqualTo("In");
        assertThat(rules.getFirst().getOnExitCodes().getValues()).containsExactly(143);
        assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");

        Job unqueued = WorkerJobRenderer.desired(Fixtures.job("ns", "run"),
                new Attempt(1, 0, null, Instant.parse("2026-01-01T00:00:00Z"), "Started"), Fixtures.renderSettings("t"));
        assertThat(unqueued.getSpec().getPodFailurePolicy()).as("without a queue a stopped worker fails the attempt").isNull();
    }
}
