package dev.finetune.trainer.cli;

import dev.finetune.api.source.OciRef;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.oci.Registries;
import dev.finetune.trainer.oci.RegistryClient;
import dev.finetune.trainer.oci.RegistryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options {@code finetune push} and {@code pull} share: how to reach the registry and with which credentials. */
final class RegistryOptions {

    @Option(names = "--insecure", description = "plain HTTP (default only for localhost / 127.x registries)")
    boolean insecure;

    @Option(names = "--docker-config", paramLabel = "FILE",
            description = "Docker config JSON with credentials (default: $FINETUNE_DOCKER_CONFIG, else ~/.docker/config.json if present)")
    Path dockerConfig;

    static OciRef reference(String text, String what) {
        String ref = text.startsWith(OciRef.SCHEME) ? text.substring(OciRef.SCHEME.length()) : text;
        try {
            return OciRef.parse(ref, what);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage(), null);
        }
    }

    RegistryClient client(OciRef ref, Map<String, String> env) throws IOException {
        Path config = dockerConfig;
        if (config == null && env.get(Registries.DOCKER_CONFIG_ENV) != null) {
            config = Path.of(env.get(Registries.DOCKER_CONFIG_ENV));
        }
        if (config == null) {
            Path home = Path.of(System.getProperty("user.home"), ".docker", "config.json");
            config = Files.isRegularFile(home) ? home : null;
        }
        if (config != null && !Files.isReadable(config)) {
            throw CliException.usage("Docker config " + config + " cannot be read", "give a readable file or leave it out");
        }
        return Registries.client(ref, insecure || Registries.insecure(ref.registry(), env), config);
    }

    static CliException failed(String what, RegistryException e) {
        return CliException.of(e.transientFailure() ? FailureReason.COMMUNICATION : FailureReason.BAD_CONFIG,
                what + ": " + e.getMessage(), e.transientFailure() ? "try again; the registry was unavailable" : null, e);
    }
}
