package dev.finetune.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/**
 * The operator's own settings ({@code finetune.*} in application.properties, or FINETUNE_* environment
 * variables in the Deployment). Everything here is an installation choice; everything per run is in the
 * FineTuneJob.
 */
@ConfigMapping(prefix = "finetune")
public interface OperatorSettings {

    Trainer trainer();

    Worker worker();

    NetworkPolicy networkPolicy();

    interface Trainer {
        /** Image for GPU jobs when spec.image is not set. */
        @WithDefault("finetune/trainer:latest")
        String image();

        /** Image for CPU jobs (resources.gpus: 0) when spec.image is not set; default: {@link #image()}. */
        Optional<String> cpuImage();

        /** imagePullPolicy of the workers. */
        @WithDefault("IfNotPresent")
        String imagePullPolicy();

        /** HF_ENDPOINT of the initializers that download hf:// sources (a mirror or private hub); default the public hub. */
        Optional<String> hubEndpoint();
    }

    interface Worker {
        /** UID the trainer runs as (the pods run as non-root). */
        @WithDefault("1000")
        long runAsUser();

        /** GID of the trainer and fsGroup of the volumes (changed only on root mismatch). */
        @WithDefault("1000")
        long runAsGroup();

        /** Grace period for the just-in-time checkpoint on SIGTERM. */
        @WithDefault("120")
        long terminationGracePeriodSeconds();

        /** Collective operation timeout handed to the trainer (FINETUNE_COLLECTIVE_TIMEOUT_SECONDS). */
        @WithDefault("1800")
        long collectiveTimeoutSeconds();

        /** How long rank 0 waits for the whole gang at start (FINETUNE_RENDEZVOUS_TIMEOUT_SECONDS). */
        @WithDefault("900")
        long rendezvousTimeoutSeconds();
    }

    interface NetworkPolicy {
        /** Create the per-job NetworkPolicy. */
        @WithDefault("true")
        boolean enabled();

        /**
         * API server addresses (CIDRs) the workers may reach; empty: read from the {@code default/kubernetes}
         * EndpointSlice, falling back to ports 443 and 6443 on any address when it cannot be read.
         */
        Optional<List<String>> apiServerCidrs();

        /** API server ports, used with {@link #apiServerCidrs()}. */
        @WithDefault("443,6443")
        List<Integer> apiServerPorts();
    }
}
