package dev.finetune.operator.reconcile;

import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;

/**
 * The operator running against the Fabric8 mock API server (subclasses are {@code @QuarkusTest} with
 * {@code @WithKubernetesTestServer(crud = true)}), the CRD installed, and a {@link SimulatedCluster} in which
 * the test plays kubelet, Job controller and rank 0.
 */
abstract class OnMockApiServer {

    @Inject
    KubernetesClient client;

    SimulatedCluster cluster;

    @BeforeEach
    void installCrdAndCluster() throws Exception {
        SimulatedCluster.installCrd(client);
        cluster = new SimulatedCluster(client);
    }
}
