package dev.finetune.operator.children;

import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;

/**
 * The container security context of every container a job runs (the initializer and the trainer): what the
 * restricted Pod Security Standard requires, plus a read-only root filesystem (the trainer writes only to its
 * volumes and an emptyDir for /tmp).
 */
final class RestrictedContainer {

    private RestrictedContainer() {}

    static SecurityContext securityContext() {
        return new SecurityContextBuilder()
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withReadOnlyRootFilesystem(true)
                .withRunAsNonRoot(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .build();
    }
}
