package dev.finetune.trainer.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

/**
 * A user name and password (or token) for one registry, read from a Docker config JSON: the
 * {@code .dockerconfigjson} key of a {@code kubernetes.io/dockerconfigjson} Secret, or {@code ~/.docker/config.json}.
 * Entries are {@code auths.<host[:port]>} with {@code auth} (base64 of user:password) or username/password.
 */
public record RegistryCredentials(String username, String password) {

    /** The credentials for {@code registry} in the Docker config at {@code file}, if it has an entry. */
    public static Optional<RegistryCredentials> fromDockerConfig(Path file, String registry) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not a Docker config JSON (" + e.getOriginalMessage()
                    + "); create the Secret with kubectl create secret docker-registry");
        }
        JsonNode auths = root.path("auths");
        for (String key : new String[] {registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/"}) {
            JsonNode entry = auths.path(key);
            if (entry.isObject()) {
                return Optional.of(parse(entry, file, key));
            }
        }
        return Optional.empty();
    }

    private static RegistryCredentials parse(JsonNode entry, Path file, String key) {
        if (entry.hasNonNull("auth")) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(entry.get("auth").asText()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": auths." + key + ".auth is not base64 of user:password");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(file + ": auths." + key + ".auth does not decode to user:password");
            }
            return new RegistryCredentials(decoded.substring(0, colon), decoded.substring(colon + 1));
        }
        if (entry.hasNonNull("username") && entry.hasNonNull("password")) {
            return new RegistryCredentials(entry.get("username").asText(), entry.get("password").asText());
        }
        throw new IllegalArgumentException(file + ": auths." + key + " has neither auth nor username and password");
    }

    /** The value of a Basic Authorization header. */
    String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "RegistryCredentials[" + username + ", password hidden]";
    }
}
