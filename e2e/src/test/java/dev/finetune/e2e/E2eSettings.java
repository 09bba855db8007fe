package dev.finetune.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the suite runs against, from system properties ({@code -De2e.cluster=kind}, ...):
 * <ul>
 *   <li>{@code e2e.cluster}: {@code kubeconfig} (default: the cluster KUBECONFIG or ~/.kube/config names) or
 *       {@code kind} (create a Kind cluster, load the images, delete it afterwards)</li>
 *   <li>{@code e2e.kind.name}: the Kind cluster's name (default {@code finetune-e2e}); an existing cluster of
 *       that name is used and kept</li>
 *   <li>{@code e2e.kind.tool}: {@code stock} (the {@code kind} CLI on PATH, stock kindest/node) or
 *       {@code project} ({@code e2e/kind/kind.sh}: the node image built on the machine, for machines that reach
 *       no registry)</li>
 *   <li>{@code e2e.operator.image}, {@code e2e.trainer.image}, {@code e2e.smoke.image}: the images under test,
 *       already in the machine's Docker (loaded into a Kind cluster the suite creates) or in the cluster</li>
 *   <li>{@code e2e.kubectl}: the kubectl used for {@code kubectl kustomize} only (default {@code kubectl})</li>
 * </ul>
 */
record E2eSettings(Path repo, ClusterMode cluster, String kindName, KindTool kindTool, String operatorImage,
                   String trainerImage, String smokeImage, String kubectl) {

    enum ClusterMode { KUBECONFIG, KIND }

    enum KindTool { STOCK, PROJECT }

    static E2eSettings fromSystemProperties() {
        Path repo = Path.of(System.getProperty("e2e.repo", "..")).toAbsolutePath().normalize();
        if (!Files.isDirectory(repo.resolve("deploy/kustomize/base"))) {
            throw new IllegalStateException("e2e.repo=" + repo + " is not the repository root (no deploy/kustomize/base);"
                    + " run the suite with 'mvn verify -Pe2e -pl e2e -am' from the root, or set -De2e.repo=<root>");
        }
        return new E2eSettings(repo,
                choice("e2e.cluster", "kubeconfig", ClusterMode.class),
                System.getProperty("e2e.kind.name", "finetune-e2e"),
                choice("e2e.kind.tool", "stock", KindTool.class),
                System.getProperty("e2e.operator.image", "finetune/operator:dev"),
                System.getProperty("e2e.trainer.image", "local/finetune-trainer:cpu"),
                System.getProperty("e2e.smoke.image", "local/e2e-smoke:1"),
                System.getProperty("e2e.kubectl", "kubectl"));
    }

    private static <E extends Enum<E>> E choice(String property, String fallback, Class<E> type) {
        String value = System.getProperty(property, fallback);
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            StringBuilder allowed = new StringBuilder();
            for (E constant : type.getEnumConstants()) {
                allowed.append(allowed.isEmpty() ? "" : ", ").append(constant.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("-D" + property + "=" + value + ": use one of " + allowed, e);
        }
    }
}
