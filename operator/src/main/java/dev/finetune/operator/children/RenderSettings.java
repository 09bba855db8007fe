package dev.finetune.operator.children;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.List;

/**
 * Installation-wide inputs of the renderers, as plain data so rendering stays a pure function.
 *
 * @param apiServerPeers where the API server is ({@code ipBlock}s); empty means any address
 * @param apiServerPorts the API server's ports as the pod sees them after Service translation
 * @param hubEndpoint HF_ENDPOINT for the source initializer; null for the public hub
 */
public record RenderSettings(
        String gpuImage,
        String cpuImage,
        String imagePullPolicy,
        long runAsUser,
        long runAsGroup,
        long terminationGracePeriodSeconds,
        long collectiveTimeoutSeconds,
        long rendezvousTimeoutSeconds,
        boolean networkPolicy,
        List<NetworkPolicyPeer> apiServerPeers,
        List<NetworkPolicyPort> apiServerPorts,
        String hubEndpoint) {

    /** Settings for the public hub. */
    public RenderSettings(String gpuImage, String cpuImage, String imagePullPolicy, long runAsUser, long runAsGroup,
            long terminationGracePeriodSeconds, long collectiveTimeoutSeconds, long rendezvousTimeoutSeconds,
            boolean networkPolicy, List<NetworkPolicyPeer> apiServerPeers, List<NetworkPolicyPort> apiServerPorts) {
        this(gpuImage, cpuImage, imagePullPolicy, runAsUser, runAsGroup, terminationGracePeriodSeconds,
                collectiveTimeoutSeconds, rendezvousTimeoutSeconds, networkPolicy, apiServerPeers, apiServerPorts, null);
    }
}
