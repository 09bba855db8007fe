package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.Names;
import dev.finetune.operator.status.ConditionType;
import dev.finetune.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithKubernetesTestServer(crud = true)
class FineTuneJobReconcilerTest extends OnMockApiServer {

    @Test
    void createsChildrenAndValidatesWhenClaimsAreBound() {
        String ns = "create";
        cluster.boundClaims(ns, "models", "data", "outputs");
        cluster.create(Fixtures.job(ns, "qwen"));

        FineTuneJob job = cluster.await(ns, "qwen", j -> j.getStatus() != null && j.getStatus().getPhase() == Phase.Initializing);
        assertThat(Conditions.isTrue(job.getStatus().getConditions(), ConditionType.VALIDATED)).isTrue();
        assertThat(Conditions.isTrue(job.getStatus().getConditions(), ConditionType.RECONCILING)).isTrue();
        assertThat(job.getStatus().getAttempt()).isEqualTo(1);
        assertThat(job.getStatus().getDisplay().getGpus()).isEqualTo("2x4");

        Job workers = cluster.awaitWorkerJob(ns, "qwen", 1);
        assertThat(workers.getSpec().getCompletionMode()).isEqualTo("Indexed");
        assertThat(workers.getSpec().getCompletions()).isEqualTo(2);
        assertThat(workers.getSpec().getBackoffLimit()).isZero();
        Container trainer = workers.getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, String> env = trainer.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertThat(env).containsEntry("MASTER_ADDR", "qwen-attempt-1-0.qwen-workers.create.svc")
                .containsEntry("WORLD_SIZE", "8").containsEntry("LOCAL_WORLD_SIZE", "4")
                .containsEntry("FINETUNE_CONFIG", TrainerConfigs.IN_CLUSTER_CONFIG_FILE);
        assertThat(trainer.getResources().getLimits().get("nvidia.com/gpu").getAmount()).isEqualTo("4");
        assertThat(trainer.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();

        ConfigMap config = client.configMaps().inNamespace(ns).withName(Names.configMap("qwen")).get();
        TrainerConfig trainerConfig = TrainerJson.read(config.getData().get(TrainerConfigs.CONFIG_KEY), TrainerConfig.class);
        assertThat(trainerConfig.attempt()).isEqualTo(1);
        assertThat(trainerConfig.paths().modelDir()).isEqualTo("/mnt/volumes/models/Qwen3-0.6B");
        assertThat(client.configMaps().inNamespace(ns).withName(Names.progressConfigMap("qwen")).get()).isNotNull();
        assertThat(client.services().inNamespace(ns).withName(Names.service("qwen")).get().getSpec().getClusterIP()).isEqualTo("None");
        assertThat(client.serviceAccounts().inNamespace(ns).withName(Names.serviceAccount("qwen")).get()).isNotNull();
        assertThat(client.rbac().roles().inNamespace(ns).withName(Names.serviceAccount("qwen")).get().getRules().get(0).getResourceNames())
                .containsExactly("qwen-progress");
        assertThat(client.rbac().roleBindings().inNamespace(ns).withName(Names.serviceAccount("qwen")).get()).isNotNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName("qwen").get()).isNotNull();
    }
}
