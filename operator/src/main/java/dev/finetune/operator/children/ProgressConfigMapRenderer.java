package dev.finetune.operator.children;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;

/**
 * {@code <job>-progress}: created empty by the operator, written only by rank 0 (key progress.json).
 * Create-only: the operator never updates it, so it can never overwrite a report.
 */
public final class ProgressConfigMapRenderer {

    private ProgressConfigMapRenderer() {
    }

    public static ConfigMap desired(FineTuneJob job) {
        return new ConfigMapBuilder()
                .withMetadata(Owners.childMeta(job, Names.progressConfigMap(job.getMetadata().getName()), Labels.COMPONENT_PROGRESS))
                .build();
    }
}
