package dev.finetune.e2e;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Kind cluster the suite creates (and deletes afterwards) or finds (and keeps): with the stock {@code kind} CLI,
 * or with {@code e2e/kind/kind.sh}, which builds the node image on machines that reach no registry.
 * Images are copied from the machine's Docker into the nodes ({@code kind load docker-image}) only into a
 * cluster created here; a cluster found already running is expected to hold them or to pull them (CI names the
 * images by their names in {@code kind.sh}'s local registry, {@code localhost:PORT/...}, which the nodes pull from).
 */
final class KindCluster implements AutoCloseable {

    private static final Duration CREATE_LIMIT = Duration.ofMinutes(60);
    private static final Duration LOAD_LIMIT = Duration.ofMinutes(10);

    private final E2eSettings settings;
    private final boolean created;

    private KindCluster(E2eSettings settings, boolean created) {
        this.settings = settings;
        this.created = created;
    }

    /** Finds the cluster named in the settings or creates it and loads the images under test into it. */
    static KindCluster findOrCreate(E2eSettings settings, List<String> images) {
        boolean exists = switch (settings.kindTool()) {
            case STOCK -> run(settings, Duration.ofMinutes(1), "get", "clusters").lines()
                    .anyMatch(settings.kindName()::equals);
            case PROJECT -> projectClusterExists(settings);
        };
        KindCluster cluster = new KindCluster(settings, !exists);
        if (!exists) {
            log("creating Kind cluster " + settings.kindName() + " (" + settings.kindTool().name().toLowerCase() + " tool)");
            switch (settings.kindTool()) {
                case STOCK -> run(settings, CREATE_LIMIT, "create", "cluster", "--name", settings.kindName(), "--wait", "180s");
                case PROJECT -> project(settings, CREATE_LIMIT, "up");
            }
            cluster.load(images);
        } else {
            log("using the existing Kind cluster " + settings.kindName() + " (kept afterwards; images not loaded)");
        }
        return cluster;
    }

    /** The cluster's kubeconfig (YAML text). */
    String kubeconfig() {
        return switch (settings.kindTool()) {
            case STOCK -> run(settings, Duration.ofMinutes(1), "get", "kubeconfig", "--name", settings.kindName());
            case PROJECT -> {
                Path file = Path.of(project(settings, Duration.ofMinutes(1), "kubeconfig").strip());
                try {
                    yield Files.readString(file);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("cannot read the Kind cluster's kubeconfig " + file + ": " + e, e);
                }
            }
        };
    }

    void load(List<String> images) {
        log("kind load docker-image " + String.join(" ", images));
        List<String> args = new ArrayList<>(images);
        switch (settings.kindTool()) {
            case STOCK -> {
                args.addAll(0, List.of("load", "docker-image"));
                args.addAll(List.of("--name", settings.kindName()));
                run(settings, LOAD_LIMIT, args.toArray(String[]::new));
            }
            case PROJECT -> {
                args.addFirst("load");
                project(settings, LOAD_LIMIT, args.toArray(String[]::new));
            }
        }
    }

    /**
     * The machine's address on the Kind nodes' Docker network (its gateway), where pods reach a server the suite
     * runs on the machine. e2e/kind/kind.sh's pod network does not masquerade, so {@code kind.sh host-address} first
     * has the node masquerade its pods' traffic to that address; stock Kind's kindnet does that already, and the
     * address is the gateway of Docker's network {@code kind}.
     */
    InetAddress hostAddress() {
        String address = switch (settings.kindTool()) {
            case PROJECT -> project(settings, Duration.ofMinutes(2), "host-address").strip().lines().reduce((a, b) -> b)
                    .orElse("");
            case STOCK -> java.util.Arrays.stream(Processes.run(settings.repo(), Duration.ofMinutes(1), List.of("docker",
                            "network", "inspect", "kind", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"))
                    .strip().split("\\s+")).filter(g -> g.matches("[0-9.]+")).findFirst().orElse("");
        };
        if (!address.matches("[0-9]+(\\.[0-9]+){3}")) {
            throw new IllegalStateException("no IPv4 address of this machine on the Kind network (got '" + address + "')");
        }
        try {
            return InetAddress.getByName(address);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (!created) {
            return;
        }
        log("deleting Kind cluster " + settings.kindName());
        switch (settings.kindTool()) {
            case STOCK -> run(settings, Duration.ofMinutes(5), "delete", "cluster", "--name", settings.kindName());
            case PROJECT -> project(settings, Duration.ofMinutes(5), "down");
        }
    }

    private static boolean projectClusterExists(E2eSettings settings) {
        try {
            project(settings, Duration.ofMinutes(1), "kubeconfig");
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static String run(E2eSettings settings, Duration limit, String... args) {
        List<String> command = new ArrayList<>(List.of("kind"));
        command.addAll(List.of(args));
        return Processes.run(settings.repo(), limit, command);
    }

    private static String project(E2eSettings settings, Duration limit, String... args) {
        List<String> command = new ArrayList<>(List.of("bash", "e2e/kind/kind.sh"));
        command.addAll(List.of(args));
        command.addAll(List.of("--name", settings.kindName()));
        return Processes.run(settings.repo(), limit, command);
    }

    private static void log(String line) {
        System.out.println("[e2e] " + line);
    }
}
