package dev.finetune.operator.children;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;

/** Metadata of a child: name, namespace, labels and the controller owner reference to its FineTuneJob. */
public final class Owners {

    private Owners() {
    }

    public static OwnerReference controllerRef(FineTuneJob job) {
        return new OwnerReferenceBuilder()
                .withApiVersion(FineTuneJob.API_VERSION)
                .withKind("FineTuneJob")
                .withName(job.getMetadata().getName())
                .withUid(job.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }

    public static ObjectMeta childMeta(FineTuneJob job, String name, String component) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(job.getMetadata().getNamespace())
                .withLabels(Labels.forChild(job.getMetadata().getName(), component))
                .withOwnerReferences(controllerRef(job))
                .build();
    }
}
