package dev.finetune.operator.children;

import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;

/**
 * {@code <job>-workers}: a headless Service whose only job is DNS. Worker pods set it as their subdomain,
 * so rank 0 is {@code <job>-attempt-<n>-0.<job>-workers}. Not-ready addresses are published because the
 * rendezvous happens before any worker is ready.
 */
public final class RendezvousServiceRenderer {

    private RendezvousServiceRenderer() {
    }

    public static Service desired(FineTuneJob job) {
        String name = job.getMetadata().getName();
        return new ServiceBuilder()
                .withMetadata(Owners.childMeta(job, Names.service(name), Labels.COMPONENT_RENDEZVOUS))
                .withNewSpec()
                    .withClusterIP("None")
                    .withPublishNotReadyAddresses(true)
                    .withSelector(Labels.workerSelector(name))
                    .addNewPort()
                        .withName("rendezvous")
                        .withProtocol("TCP")
                        .withPort(TrainerConfigs.DEFAULT_RENDEZVOUS_PORT)
                    .endPort()
                .endSpec()
                .build();
    }
}
