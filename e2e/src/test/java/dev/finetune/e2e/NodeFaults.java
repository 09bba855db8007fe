package dev.finetune.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Faults done to the Kind cluster's control-plane node with {@code e2e/kind/faults.sh} (docker exec into the node:
 * crictl, systemctl, kill). Only a Kind cluster the suite knows by name has a node to do them to.
 */
final class NodeFaults {

    private static final Duration LIMIT = Duration.ofMinutes(6);

    private final E2eSettings settings;

    private NodeFaults(E2eSettings settings) {
        this.settings = settings;
    }

    /** The faults of the suite's Kind cluster; skips the calling scenario on a cluster given by KUBECONFIG. */
    static NodeFaults of(E2eCluster cluster) {
        Assumptions.assumeTrue(cluster.settings().cluster() == E2eSettings.ClusterMode.KIND,
                "node faults need a Kind cluster (-De2e.cluster=kind): they docker exec into its node");
        return new NodeFaults(cluster.settings());
    }

    /** SIGKILL to the operator pods' main process; the kubelet restarts the container in place. */
    String killOperator() {
        return run("operator-sigkill", "--namespace", E2eCluster.OPERATOR_NAMESPACE);
    }

    /** The kube-apiserver static pod's container stopped; returns once /readyz answers again. */
    String restartApiServer() {
        return run("apiserver-restart");
    }

    String restartEtcd() {
        return run("etcd-restart");
    }

    String stopKubelet(Duration duration) {
        return run("kubelet-stop", Long.toString(duration.toSeconds()));
    }

    String restartContainerd() {
        return run("containerd-restart");
    }

    private String run(String... args) {
        List<String> command = new ArrayList<>(List.of("env"));
        if (settings.kindTool() == E2eSettings.KindTool.STOCK) {
            command.add("FAULTS_DOCKER=docker");
        }
        command.addAll(List.of("bash", "e2e/kind/faults.sh"));
        command.addAll(List.of(args));
        command.addAll(List.of("--name", settings.kindName()));
        String out = Processes.run(settings.repo(), LIMIT, command);
        out.lines().forEach(line -> System.out.println("[e2e] fault: " + line));
        return out;
    }
}
