package dev.finetune.operator.children;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.VolumeResolver;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.PushSpec;
import dev.finetune.api.v1alpha1.SecretKeyRef;
import dev.finetune.operator.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Models and data in (the initializer), adapters out (push credentials), as the worker pod renders them. */
class SourceInitRenderingTest {

    private static final RenderSettings SETTINGS = new RenderSettings("registry.example/trainer:1.0", "registry.example/trainer:1.0",
            "IfNotPresent", 1000, 1000, 120, 1800, 900, true, List.of(), List.of(NetworkPolicyRenderer.tcpPort(6443)),
            "http://hub-mirror.internal:8080");

    private static FineTuneJob fromHub() {
        FineTuneJob job = Fixtures.job("team-a", "qwen");
        job.getSpec().getModel().setSource("hf://Qwen/Qwen3-0.6B@main");
        job.getSpec().getModel().setTokenSecret(new SecretKeyRef("hf-token", null));
        job.getSpec().getModel().getPvc().setPath("hub");
        return job;
    }

    private static PodSpec pod(FineTuneJob job) {
        return WorkerJobRenderer.desired(job, WorkerJobRendererTest.ATTEMPT_3, SETTINGS).getSpec().getTemplate().getSpec();
    }

    private static Map<String, EnvVar> env(Container c) {
        return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, Function.identity()));
    }

    private static Map<String, VolumeMount> mounts(Container c) {
        return c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath, Function.identity()));
    }

    @Test
    void aJobOnVolumesHasNoInitializer() {
        assertThat(pod(Fixtures.job("ns", "plain")).getInitContainers()).isEmpty();
    }

    @Test
    void theInitializerFillsTheModelCacheWithTheTokenFromTheSecret() {
        PodSpec pod = pod(fromHub());

        Container init = pod.getInitContainers().getFirst();
        assertThat(init.getName()).isEqualTo("initialize");
        assertThat(init.getImage()).isEqualTo("registry.example/trainer:1.0");
        assertThat(init.getArgs()).containsExactly("init", "--config", TrainerConfigs.IN_CLUSTER_CONFIG_FILE);
        Map<String, EnvVar> env = env(init);
        assertThat(env.get("HF_ENDPOINT").getValue()).isEqualTo("http://hub-mirror.internal:8080");
        assertThat(env.get("FINETUNE_MODEL_TOKEN").getValue()).isNull();
        assertThat(env.get("FINETUNE_MODEL_TOKEN").getValueFrom().getSecretKeyRef().getName()).isEqualTo("hf-token");
        assertThat(env.get("FINETUNE_MODEL_TOKEN").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
        assertThat(env).doesNotContainKey("FINETUNE_DATASET_TOKEN");
        String models = VolumeResolver.inCluster().root("models").toString();
        String data = VolumeResolver.inCluster().root("data").toString();
        assertThat(mounts(init).get(models).getReadOnly()).isFalse();
        assertThat(mounts(init).get(data).getReadOnly()).isTrue();
        Container trainer = pod.getContainers().getFirst();
        assertThat(mounts(trainer).get(models).getReadOnly()).isTrue();
        assertThat(env(trainer)).doesNotContainKey("FINETUNE_MODEL_TOKEN");
        Volume modelsVolume = pod.getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null
                && v.getPersistentVolumeClaim().getClaimName().equals("models")).findFirst().orElseThrow();
        assertThat(modelsVolume.getPersistentVolumeClaim().getReadOnly()).isFalse();
    }

    @Test
    void pushCredentialsAreAFileOnlyTheTrainerMounts() {
        FineTuneJob job = fromHub();
        PushSpec push = new PushSpec();
        push.setOci("registry.internal:5000/adapters/qwen");
        push.setCredentialsSecret(new SecretKeyRef("registry-push", null));
        job.getSpec().getOutput().setPush(push);

        PodSpec pod = pod(job);

        Volume secret = pod.getVolumes().stream().filter(v -> v.getName().equals("push-credentials")).findFirst().orElseThrow();
        assertThat(secret.getSecret().getSecretName()).isEqualTo("registry-push");
        assertThat(secret.getSecret().getItems()).singleElement().satisfies(i -> {
            assertThat(i.getKey()).isEqualTo(".dockerconfigjson");
            assertThat(i.getPath()).isEqualTo("config.json");
        });
        Container trainer = pod.getContainers().getFirst();
        assertThat(env(trainer).get("FINETUNE_PUSH_DOCKER_CONFIG").getValue()).isEqualTo("/etc/finetune/push/config.json");
        assertThat(mounts(trainer)).containsKey("/etc/finetune/push");
        assertThat(mounts(pod.getInitContainers().getFirst())).doesNotContainKey("/etc/finetune/push");
    }

    @Test
    void theNetworkPolicyLetsOnlySuchJobsReachHubsAndRegistries() {
        NetworkPolicy plain = NetworkPolicyRenderer.desired(Fixtures.job("ns", "plain"), SETTINGS);
        FineTuneJob job = fromHub();
        PushSpec push = new PushSpec();
        push.setOci("registry.internal:5000/adapters/qwen");
        job.getSpec().getOutput().setPush(push);

        NetworkPolicy withSources = NetworkPolicyRenderer.desired(job, SETTINGS);

        assertThat(withSources.getSpec().getEgress()).hasSize(plain.getSpec().getEgress().size() + 1);
        assertThat(withSources.getSpec().getEgress().getLast().getTo()).isNullOrEmpty();
        assertThat(withSources.getSpec().getEgress().getLast().getPorts()).as("the hub mirror's port 8080 too")
                .extracting(p -> p.getPort().getIntVal()).containsExactly(80, 443, 5000, 8080);
    }

    @Test
    void theHubMirrorsPortIsOpenOnlyForJobsThatDownloadFromTheHub() {
        FineTuneJob ociModel = Fixtures.job("team-a", "packaged");
        ociModel.getSpec().getModel().setSource("oci://registry.internal:5000/models/qwen:v1");

        NetworkPolicy policy = NetworkPolicyRenderer.desired(ociModel, SETTINGS);

        assertThat(policy.getSpec().getEgress().getLast().getPorts())
                .extracting(p -> p.getPort().getIntVal()).containsExactly(80, 443, 5000);
    }

    @Test
    void theInitializerKnowsItsRankSoOnlyRankZeroReportsItsDownloads() {
        EnvVar rank = env(pod(fromHub()).getInitContainers().getFirst()).get("NODE_RANK");

        assertThat(rank.getValue()).isNull();
        assertThat(rank.getValueFrom().getFieldRef().getFieldPath())
                .isEqualTo("metadata.annotations['" + WorkerJobRenderer.COMPLETION_INDEX_ANNOTATION + "']");
    }
}
