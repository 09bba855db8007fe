package dev.finetune.operator.reconcile;

import dev.finetune.operator.OperatorSettings;
import dev.finetune.operator.children.NetworkPolicyRenderer;
import dev.finetune.operator.children.RenderSettings;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Where the workers reach the API server, for their NetworkPolicy. NetworkPolicyRenderer see traffic after the
 * {@code kubernetes} Service's address is translated, so the rule must name the endpoint addresses and
 * ports (often 6443), not 10.96.0.1:443. They come from settings, else from the {@code default/kubernetes}
 * EndpointSlice (re-read every few minutes), else any address on ports 443 and 6443.
 */
@ApplicationScoped
public class ApiServerEndpoints {

    private static final Logger LOG = Logger.getLogger(ApiServerEndpoints.class);
    private static final Duration REFRESH = Duration.ofMinutes(5);

    @Inject
    KubernetesClient client;

    @Inject
    OperatorSettings settings;

    private volatile Instant readAt = Instant.EPOCH;
    private volatile List<NetworkPolicyPeer> peers = List.of();
    private volatile List<NetworkPolicyPort> ports = List.of();

    public RenderSettings renderSettings() {
        refreshIfStale();
        OperatorSettings.Trainer trainer = settings.trainer();
        OperatorSettings.Worker worker = settings.worker();
        return new RenderSettings(trainer.image(), trainer.cpuImage().orElse(trainer.image()), trainer.imagePullPolicy(),
                worker.runAsUser(), worker.runAsGroup(), worker.terminationGracePeriodSeconds(), worker.collectiveTimeoutSeconds(),
                worker.rendezvousTimeoutSeconds(), settings.networkPolicy().enabled(), peers, ports,
                trainer.hubEndpoint().orElse(null));
    }

    private synchronized void refreshIfStale() {
        if (Duration.between(readAt, Instant.now()).compareTo(REFRESH) < 0) {
            return;
        }
        readAt = Instant.now();
        List<NetworkPolicyPort> configuredPorts = settings.networkPolicy().apiServerPorts().stream().map(NetworkPolicyRenderer::tcpPort).toList();
        if (settings.networkPolicy().apiServerCidrs().isPresent()) {
            peers = NetworkPolicyRenderer.ipBlocks(settings.networkPolicy().apiServerCidrs().get());
            ports = configuredPorts;
            return;
        }
        try {
            List<EndpointSlice> slices = client.discovery().v1().endpointSlices().inNamespace("default")
                    .withLabel("kubernetes.io/service-name", "kubernetes").list().getItems();
            List<String> addresses = slices.stream()
                    .flatMap(s -> s.getEndpoints() == null ? java.util.stream.Stream.empty() : s.getEndpoints().stream())
                    .flatMap(e -> e.getAddresses().stream())
                    .distinct().toList();
            List<NetworkPolicyPort> slicePorts = slices.stream()
                    .flatMap(s -> s.getPorts() == null ? java.util.stream.Stream.empty() : s.getPorts().stream())
                    .map(p -> p.getPort()).filter(Objects::nonNull).distinct().sorted()
                    .map(NetworkPolicyRenderer::tcpPort).toList();
            if (!addresses.isEmpty() && !slicePorts.isEmpty()) {
                peers = NetworkPolicyRenderer.ipBlocks(addresses);
                ports = slicePorts;
                return;
            }
        } catch (KubernetesClientException e) {
            LOG.infof("cannot read the default/kubernetes EndpointSlice (%s); workers may reach ports %s on any address",
                    e.getMessage(), settings.networkPolicy().apiServerPorts());
        }
        peers = List.of();
        ports = configuredPorts;
    }
}
