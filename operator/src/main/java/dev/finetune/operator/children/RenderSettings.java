package dev.finetune.operator.dependents;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.List;

/**
 * Installation-wide inputs of the renderers, as plain data so rendering stays a pure function.
 *
 * @param apiServerPeers where the API server is ({@code ipBlock}s); empty means any address
 * @param apiServerPorts the API server's ports as the pod sees them after Service translation
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
        List<NetworkPolicyPort> apiServerPorts) {

    /** Settings for tests and examples: images named, defaults elsewhere, API server on any address. */
    public static RenderSettings defaults(String image) {
        return new RenderSettings(image, image, "IfNotPresent", 1000, 1000, 120, 1800, 900, true, List.of(),
                List.of(NetworkPolicies.tcpPort(443), NetworkPolicies.tcpPort(6443)));
    }
}
