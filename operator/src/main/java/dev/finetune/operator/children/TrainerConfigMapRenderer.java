package dev.finetune.operator.children;

import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.Map;
import java.util.Objects;

/**
 * {@code <job>-config}: the {@link TrainerConfig} every worker reads from {@link TrainerConfigs#IN_CLUSTER_CONFIG_FILE}.
 * Its attempt and resume point follow the job's life, so it is the one child the operator updates in place:
 * a pod that starts (a new attempt, or a Kueue re-admission of the same one) reads the current values.
 */
public final class TrainerConfigMapRenderer {

    private TrainerConfigMapRenderer() {
    }

    public static ConfigMap desired(FineTuneJob job, int attempt, String resumeFrom) {
        String name = job.getMetadata().getName();
        String namespace = job.getMetadata().getNamespace();
        TrainerConfig config = TrainerConfigs.forCluster(job, attempt, resumeFrom,
                Names.rendezvousHost(name, namespace, attempt));
        return new ConfigMapBuilder()
                .withMetadata(Owners.childMeta(job, Names.configMap(name), Labels.COMPONENT_CONFIG))
                .withData(Map.of(TrainerConfigs.CONFIG_KEY, TrainerJson.write(config)))
                .build();
    }

    /** True when the live ConfigMap already holds what {@link #desired} renders. */
    public static boolean matches(ConfigMap actual, ConfigMap desired) {
        return actual.getData() != null
                && Objects.equals(actual.getData().get(TrainerConfigs.CONFIG_KEY), desired.getData().get(TrainerConfigs.CONFIG_KEY));
    }
}
