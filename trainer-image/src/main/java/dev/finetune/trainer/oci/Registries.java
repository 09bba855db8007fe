package dev.finetune.trainer.oci;

import dev.finetune.api.source.OciRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** Builds a {@link RegistryClient} for a reference: plain HTTP or HTTPS, and credentials from a Docker config. */
public final class Registries {

    /** Comma-separated registries (host[:port]) reached over plain HTTP, besides loopback ones. */
    public static final String INSECURE_ENV = "FINETUNE_INSECURE_REGISTRIES";
    /** A Docker config JSON with credentials (the mounted credentialsSecret / tokenSecret). */
    public static final String DOCKER_CONFIG_ENV = "FINETUNE_DOCKER_CONFIG";

    private Registries() {
    }

    /** Loopback registries (localhost, 127.x) use plain HTTP, as Docker's own default; others only when listed. */
    public static boolean insecure(String registry, Map<String, String> env) {
        String host = registry.replaceFirst(":[0-9]+$", "");
        if (host.equals("localhost") || host.startsWith("127.")) {
            return true;
        }
        return Arrays.stream(env.getOrDefault(INSECURE_ENV, "").split(",")).map(String::strip).anyMatch(registry::equals);
    }

    public static RegistryClient client(OciRef ref, boolean insecure, Path dockerConfig) throws IOException {
        RegistryCredentials credentials = dockerConfig == null ? null
                : RegistryCredentials.fromDockerConfig(dockerConfig, ref.registry()).orElse(null);
        return new RegistryClient(ref.registry(), insecure, credentials);
    }
}
