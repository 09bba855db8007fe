package dev.finetune.operator.children;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;

/**
 * The workers' identity: ServiceAccount {@code <job>-trainer}, bound to a Role that may get, patch and update
 * the ConfigMap {@code <job>-progress} and nothing else.
 */
public final class ProgressIdentityRenderer {

    private ProgressIdentityRenderer() {
    }

    public static ServiceAccount serviceAccount(FineTuneJob job) {
        String name = job.getMetadata().getName();
        return new ServiceAccountBuilder()
                .withMetadata(Owners.childMeta(job, Names.serviceAccount(name), Labels.COMPONENT_IDENTITY))
                .build();
    }

    public static Role role(FineTuneJob job) {
        String name = job.getMetadata().getName();
        return new RoleBuilder()
                .withMetadata(Owners.childMeta(job, Names.serviceAccount(name), Labels.COMPONENT_IDENTITY))
                .addNewRule()
                    .withApiGroups("")
                    .withResources("configmaps")
                    .withResourceNames(Names.progressConfigMap(name))
                    .withVerbs("get", "patch", "update")
                .endRule()
                .build();
    }

    public static RoleBinding roleBinding(FineTuneJob job) {
        String name = job.getMetadata().getName();
        return new RoleBindingBuilder()
                .withMetadata(Owners.childMeta(job, Names.serviceAccount(name), Labels.COMPONENT_IDENTITY))
                .withNewRoleRef()
                    .withApiGroup("rbac.authorization.k8s.io")
                    .withKind("Role")
                    .withName(Names.serviceAccount(name))
                .endRoleRef()
                .addNewSubject()
                    .withKind("ServiceAccount")
                    .withName(Names.serviceAccount(name))
                    .withNamespace(job.getMetadata().getNamespace())
                .endSubject()
                .build();
    }
}
