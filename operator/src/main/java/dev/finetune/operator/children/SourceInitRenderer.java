package dev.finetune.operator.children;

import dev.finetune.api.source.OciRef;
import dev.finetune.api.source.Source;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.VolumeResolver;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.PushSpec;
import dev.finetune.api.v1alpha1.SecretKeyRef;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The parts of a worker pod that bring models and data in and adapters out: the {@value #INIT_CONTAINER} init
 * container ({@code finetune init}, from the trainer image) that fills the model's and dataset's cache
 * directories from their sources, and the Secrets it and the trainer read. Tokens reach the containers as
 * secretKeyRef env vars or mounted files, never through the config or the pod spec's literal values.
 */
public final class SourceInitRenderer {

    public static final String INIT_CONTAINER = "initialize";
    static final String MODEL_REGISTRY_SECRET_VOLUME = "model-registry-credentials";
    static final String PUSH_SECRET_VOLUME = "push-credentials";
    static final String MODEL_REGISTRY_CONFIG = "/etc/finetune/model-registry/config.json";
    static final String PUSH_CONFIG = "/etc/finetune/push/config.json";
    static final String HUB_TOKEN_KEY = "token";
    static final String DOCKER_CONFIG_KEY = ".dockerconfigjson";

    private SourceInitRenderer() {
    }

    /** Whether the job downloads anything before training. */
    public static boolean hasSources(FineTuneJobSpec spec) {
        return spec.getModel().getSource() != null || spec.getDataset().getSource() != null;
    }

    /** Claims an initializer writes to: the caches of the sources. */
    public static Set<String> cacheClaims(FineTuneJobSpec spec) {
        Set<String> claims = new LinkedHashSet<>();
        if (spec.getModel().getSource() != null) {
            claims.add(spec.getModel().getPvc().getClaimName());
        }
        if (spec.getDataset().getSource() != null) {
            claims.add(spec.getDataset().getPvc().getClaimName());
        }
        return claims;
    }

    /** The init container, or none for a job whose model and data are already on volumes. */
    static List<Container> initContainers(FineTuneJob job, RenderSettings settings, List<VolumeMount> trainerMounts) {
        FineTuneJobSpec spec = job.getSpec();
        if (!hasSources(spec)) {
            return List.of();
        }
        Set<String> caches = cacheClaims(spec);
        List<VolumeMount> mounts = new ArrayList<>();
        for (VolumeMount m : trainerMounts) {
            boolean cache = caches.stream().anyMatch(c -> VolumeResolver.inCluster().root(c).toString().equals(m.getMountPath()));
            mounts.add(cache ? new VolumeMountBuilder(m).withReadOnly(false).build() : m);
        }
        List<EnvVar> env = new ArrayList<>();
        env.add(value("HOME", "/tmp"));
        env.add(value("TMPDIR", "/tmp"));
        // rank 0's initializer reports its downloads to the progress ConfigMap; the others only log them
        env.add(new EnvVarBuilder().withName("NODE_RANK").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.annotations['" + WorkerJobRenderer.COMPLETION_INDEX_ANNOTATION + "']").endFieldRef()
                .endValueFrom().build());
        if (settings.hubEndpoint() != null && !settings.hubEndpoint().isBlank()) {
            env.add(value("HF_ENDPOINT", settings.hubEndpoint()));
        }
        hubToken(spec.getModel().getSource(), spec.getModel().getTokenSecret(), "FINETUNE_MODEL_TOKEN").ifPresent(env::add);
        hubToken(spec.getDataset().getSource(), spec.getDataset().getTokenSecret(), "FINETUNE_DATASET_TOKEN").ifPresent(env::add);
        if (modelRegistrySecret(spec) != null) {
            env.add(value("FINETUNE_DOCKER_CONFIG", MODEL_REGISTRY_CONFIG));
            mounts.add(new VolumeMountBuilder().withName(MODEL_REGISTRY_SECRET_VOLUME)
                    .withMountPath(MODEL_REGISTRY_CONFIG.substring(0, MODEL_REGISTRY_CONFIG.lastIndexOf('/'))).withReadOnly(true).build());
        }
        return List.of(new ContainerBuilder()
                .withName(INIT_CONTAINER)
                .withImage(WorkerJobRenderer.image(job, settings))
                .withImagePullPolicy(settings.imagePullPolicy())
                .withArgs("init", "--config", TrainerConfigs.IN_CLUSTER_CONFIG_FILE)
                .withEnv(env)
                .withVolumeMounts(mounts)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withSecurityContext(RestrictedContainer.securityContext())
                .build());
    }

    /** Secret volumes: the oci:// model's Docker config and output.push's. */
    static List<Volume> volumes(FineTuneJobSpec spec) {
        List<Volume> volumes = new ArrayList<>();
        SecretKeyRef model = modelRegistrySecret(spec);
        if (model != null) {
            volumes.add(secretFile(MODEL_REGISTRY_SECRET_VOLUME, model));
        }
        SecretKeyRef push = pushSecret(spec);
        if (push != null) {
            volumes.add(secretFile(PUSH_SECRET_VOLUME, push));
        }
        return volumes;
    }

    /** The trainer's mount of output.push's credentials, if any. */
    static List<VolumeMount> trainerMounts(FineTuneJobSpec spec) {
        return pushSecret(spec) == null ? List.of() : List.of(new VolumeMountBuilder().withName(PUSH_SECRET_VOLUME)
                .withMountPath(PUSH_CONFIG.substring(0, PUSH_CONFIG.lastIndexOf('/'))).withReadOnly(true).build());
    }

    /** The trainer's env for output.push's credentials, if any. */
    static List<EnvVar> trainerEnv(FineTuneJobSpec spec) {
        return pushSecret(spec) == null ? List.of() : List.of(value("FINETUNE_PUSH_DOCKER_CONFIG", PUSH_CONFIG));
    }

    /** host:port of every registry the job talks to (oci:// model, output.push), for the NetworkPolicy. */
    public static List<Integer> registryPorts(FineTuneJobSpec spec) {
        Set<Integer> ports = new LinkedHashSet<>();
        if (spec.getModel().getSource() != null && Source.parse(spec.getModel().getSource(), "spec.model.source") instanceof OciRef ref) {
            ports.add(port(ref.registry()));
        }
        PushSpec push = spec.getOutput().getPush();
        if (push != null) {
            ports.add(port(OciRef.parse(push.getOci(), "spec.output.push.oci").registry()));
        }
        return List.copyOf(ports);
    }

    /**
     * The port of the operator's hub endpoint ({@code finetune.trainer.hub-endpoint}) when a job downloads from
     * {@code hf://} through it; none for the public hub (443) or a job without hf:// sources.
     */
    public static java.util.Optional<Integer> hubEndpointPort(FineTuneJobSpec spec, RenderSettings settings) {
        boolean fromHub = java.util.stream.Stream.of(spec.getModel().getSource(), spec.getDataset().getSource())
                .anyMatch(s -> s != null && s.startsWith("hf://"));
        String endpoint = settings.hubEndpoint();
        if (!fromHub || endpoint == null || endpoint.isBlank()) {
            return java.util.Optional.empty();
        }
        try {
            java.net.URI uri = new java.net.URI(endpoint.strip());
            return java.util.Optional.of(uri.getPort() > 0 ? uri.getPort() : "http".equalsIgnoreCase(uri.getScheme()) ? 80 : 443);
        } catch (java.net.URISyntaxException e) {
            return java.util.Optional.empty(); // the initializer names the malformed HF_ENDPOINT when it starts
        }
    }

    private static int port(String registry) {
        int colon = registry.lastIndexOf(':');
        return colon < 0 ? 443 : Integer.parseInt(registry.substring(colon + 1));
    }

    private static SecretKeyRef modelRegistrySecret(FineTuneJobSpec spec) {
        String source = spec.getModel().getSource();
        return source != null && source.startsWith(OciRef.SCHEME) ? spec.getModel().getTokenSecret() : null;
    }

    private static SecretKeyRef pushSecret(FineTuneJobSpec spec) {
        return spec.getOutput().getPush() == null ? null : spec.getOutput().getPush().getCredentialsSecret();
    }

    private static java.util.Optional<EnvVar> hubToken(String source, SecretKeyRef secret, String name) {
        if (source == null || secret == null || !source.startsWith("hf://")) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef()
                .withName(secret.getName()).withKey(secret.getKey() != null ? secret.getKey() : HUB_TOKEN_KEY)
                .endSecretKeyRef().endValueFrom().build());
    }

    private static Volume secretFile(String volume, SecretKeyRef secret) {
        return new VolumeBuilder().withName(volume).withNewSecret().withSecretName(secret.getName())
                .addNewItem().withKey(secret.getKey() != null ? secret.getKey() : DOCKER_CONFIG_KEY).withPath("config.json").endItem()
                .endSecret().build();
    }

    private static EnvVar value(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }
}
