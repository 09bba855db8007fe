package dev.finetune.operator.children;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import java.util.List;
import java.util.Objects;

/**
 * NetworkPolicy {@code <job>}: selects the job's worker pods and allows exactly what training needs, so the
 * job works in a namespace with a default-deny policy: all traffic among the gang (rendezvous, NCCL, the
 * TCP ring), DNS, and the API server (rank 0's progress reports). Policies are additive: nothing else opens.
 */
public final class NetworkPolicyRenderer {

    private NetworkPolicyRenderer() {
    }

    public static NetworkPolicy desired(FineTuneJob job, RenderSettings settings) {
        String name = job.getMetadata().getName();
        NetworkPolicyPeer gang = new NetworkPolicyPeerBuilder()
                .withPodSelector(new LabelSelectorBuilder().withMatchLabels(Labels.workerSelector(name)).build())
                .build();
        return new NetworkPolicyBuilder()
                .withMetadata(Owners.childMeta(job, Names.networkPolicy(name), Labels.COMPONENT_NETWORK))
                .withNewSpec()
                    .withPodSelector(new LabelSelectorBuilder().withMatchLabels(Labels.workerSelector(name)).build())
                    .withPolicyTypes("Ingress", "Egress")
                    .addNewIngress().withFrom(gang).endIngress()
                    .addToEgress(new NetworkPolicyEgressRuleBuilder().withTo(gang).build())
                    .addToEgress(new NetworkPolicyEgressRuleBuilder().withPorts(port("UDP", 53), port("TCP", 53)).build())
                    .addToEgress(new NetworkPolicyEgressRuleBuilder()
                            .withTo(settings.apiServerPeers())
                            .withPorts(settings.apiServerPorts())
                            .build())
                    .addAllToEgress(sourcesAndRegistries(job.getSpec(), settings))
                .endSpec()
                .build();
    }

    /**
     * A job with hf:// or oci:// sources or output.push reaches the hub and registries: any address on 443 and
     * 80 (the hub's CDN redirects), the operator's hub endpoint's port (a mirror), and each registry's own port;
     * other jobs get no such rule.
     */
    private static List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule> sourcesAndRegistries(
            dev.finetune.api.v1alpha1.FineTuneJobSpec spec, RenderSettings settings) {
        if (!SourceInitRenderer.hasSources(spec) && spec.getOutput().getPush() == null) {
            return List.of();
        }
        java.util.Set<Integer> ports = new java.util.TreeSet<>(List.of(80, 443));
        ports.addAll(SourceInitRenderer.registryPorts(spec));
        SourceInitRenderer.hubEndpointPort(spec, settings).ifPresent(ports::add);
        return List.of(new NetworkPolicyEgressRuleBuilder().withPorts(ports.stream().map(NetworkPolicyRenderer::tcpPort).toList())
                .build());
    }

    public static boolean matches(NetworkPolicy actual, NetworkPolicy desired) {
        return Objects.equals(actual.getSpec(), desired.getSpec());
    }

    public static NetworkPolicyPort tcpPort(int port) {
        return port("TCP", port);
    }

    private static NetworkPolicyPort port(String protocol, int port) {
        return new NetworkPolicyPortBuilder().withProtocol(protocol).withPort(new IntOrString(port)).build();
    }

    /** ipBlock peers for API server addresses (a bare IP becomes a /32 or /128). */
    public static List<NetworkPolicyPeer> ipBlocks(List<String> addresses) {
        return addresses.stream()
                .map(a -> a.contains("/") ? a : a + (a.contains(":") ? "/128" : "/32"))
                .distinct()
                .sorted()
                .map(cidr -> new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr(cidr).endIpBlock().build())
                .toList();
    }
}
