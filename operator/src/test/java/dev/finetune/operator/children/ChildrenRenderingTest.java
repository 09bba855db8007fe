package dev.finetune.operator.children;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.Fixtures;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChildrenRenderingTest {

    final FineTuneJob job = Fixtures.job("team-a", "qwen");

    @Test
    void trainerConfigCarriesAttemptResumePointAndRendezvous() {
        ConfigMap cm = TrainerConfigMapRenderer.desired(job, 2, "runs/qwen/checkpoint-100");
        assertThat(cm.getMetadata().getName()).isEqualTo("qwen-config");
        TrainerConfig config = TrainerJson.read(cm.getData().get(TrainerConfigs.CONFIG_KEY), TrainerConfig.class);
        assertThat(config.attempt()).isEqualTo(2);
        assertThat(config.resumeFrom()).isEqualTo("runs/qwen/checkpoint-100");
        assertThat(config.distributed().rendezvousHost()).isEqualTo("qwen-attempt-2-0.qwen-workers.team-a.svc");
        assertThat(config.distributed().worldSize()).isEqualTo(8);
        assertThat(config.distributed().backend()).isEqualTo(dev.finetune.api.trainer.CollectiveBackend.NCCL);
        assertThat(config.progress().configMapName()).isEqualTo("qwen-progress");
        assertThat(config.paths().outputDir()).isEqualTo("/mnt/volumes/outputs/runs/qwen");
        assertThat(TrainerConfigMapRenderer.matches(cm, TrainerConfigMapRenderer.desired(job, 2, "runs/qwen/checkpoint-100"))).isTrue();
        assertThat(TrainerConfigMapRenderer.matches(cm, TrainerConfigMapRenderer.desired(job, 3, "runs/qwen/checkpoint-100"))).isFalse();
    }

    @Test
    void progressConfigMapStartsEmpty() {
        ConfigMap cm = ProgressConfigMapRenderer.desired(job);
        assertThat(cm.getMetadata().getName()).isEqualTo("qwen-progress");
        assertThat(cm.getData()).isNullOrEmpty();
        assertThat(cm.getMetadata().getLabels()).containsEntry(Labels.COMPONENT, Labels.COMPONENT_PROGRESS);
    }

    @Test
    void rendezvousServiceIsHeadlessAndPublishesNotReadyPods() {
        Service svc = RendezvousServiceRenderer.desired(job);
        assertThat(svc.getMetadata().getName()).isEqualTo("qwen-workers");
        assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(svc.getSpec().getPublishNotReadyAddresses()).isTrue();
        assertThat(svc.getSpec().getSelector()).containsEntry(Labels.JOB, "qwen").containsEntry(Labels.COMPONENT, Labels.COMPONENT_WORKER);
    }

    @Test
    void roleGrantsOnlyTheJobsProgressConfigMap() {
        Role role = ProgressIdentityRenderer.role(job);
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("");
            assertThat(rule.getResources()).containsExactly("configmaps");
            assertThat(rule.getResourceNames()).containsExactly("qwen-progress");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "patch", "update");
        });
        var binding = ProgressIdentityRenderer.roleBinding(job);
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getName()).isEqualTo("qwen-trainer");
            assertThat(s.getNamespace()).isEqualTo("team-a");
        });
    }

    @Test
    void networkPolicyOpensTheGangDnsAndTheApiServerOnly() {
        RenderSettings settings = new RenderSettings("i", "i", "IfNotPresent", 1, 1, 1, 1, 1, true,
                NetworkPolicyRenderer.ipBlocks(List.of("10.0.0.5", "10.0.0.6/32")), List.of(NetworkPolicyRenderer.tcpPort(6443)));
        NetworkPolicy policy = NetworkPolicyRenderer.desired(job, settings);
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).containsEntry(Labels.JOB, "qwen");
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress()).singleElement()
                .satisfies(r -> assertThat(r.getFrom().get(0).getPodSelector().getMatchLabels()).containsEntry(Labels.JOB, "qwen"));
        assertThat(policy.getSpec().getEgress()).hasSize(3);
        var api = policy.getSpec().getEgress().get(2);
        assertThat(api.getTo()).extracting(p -> p.getIpBlock().getCidr()).containsExactly("10.0.0.5/32", "10.0.0.6/32");
        assertThat(api.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(6443);
        var dns = policy.getSpec().getEgress().get(1);
        assertThat(dns.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(53, 53);
    }

    @Test
    void namesFitDnsLabels() {
        String longest = "a".repeat(Names.MAX_JOB_NAME_LENGTH);
        assertThat(Names.workerJob(longest, 101) + "-255").hasSizeLessThanOrEqualTo(63);
        assertThat(Names.service(longest)).hasSizeLessThanOrEqualTo(63);
    }
}
