package dev.finetune.trainer.run;

import dev.finetune.api.source.OciRef;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.v1alpha1.PushSpec;
import dev.finetune.trainer.oci.ArtifactLayout;
import dev.finetune.trainer.oci.OciArtifacts;
import dev.finetune.trainer.oci.Registries;
import dev.finetune.trainer.oci.RegistryException;
import dev.finetune.trainer.train.TrainingException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Publishes what {@code spec.output.push} asks for: the final adapter as an OCI artifact tagged with the push
 * reference's tag (default: the job's name) and, with {@code push.merged}, the merged model in the same repository
 * tagged TAG-merged; credentials from the Docker config the operator mounts at {@value #DOCKER_CONFIG_ENV}. A
 * refused credential or a bad reference fails the run (fix the spec or secret); an unreachable registry is a
 * retryable failure.
 */
final class OutputPublisher {

    /** Where the operator points at output.push.credentialsSecret's Docker config. */
    static final String DOCKER_CONFIG_ENV = "FINETUNE_PUSH_DOCKER_CONFIG";

    static final String MERGED_TAG_SUFFIX = "-merged";

    private OutputPublisher() {
    }

    /** The reference to push to: the spec's, tagged with the job's name when it names no tag. */
    static OciRef target(PushSpec push, String jobName) {
        OciRef ref = OciRef.parse(push.getOci(), "spec.output.push.oci");
        return ref.tag() != null || ref.digest() != null ? ref : new OciRef(ref.registry(), ref.repository(), jobName, null);
    }

    /** The merged model's reference: the adapter's repository, its tag with {@value #MERGED_TAG_SUFFIX}. */
    static OciRef mergedTarget(OciRef adapter) {
        return new OciRef(adapter.registry(), adapter.repository(), adapter.tag() + MERGED_TAG_SUFFIX, null);
    }

    /** What was pushed, each as REGISTRY/REPOSITORY@sha256:DIGEST; {@code merged} is null unless push.merged. */
    record Pushed(String adapter, String merged) {
    }

    /** Pushes the adapter directory and, with push.merged, the merged model directory, over one registry client. */
    static Pushed publish(PushSpec push, String jobName, Path adapterDir, Path mergedDir, Map<String, String> env) {
        OciRef target = target(push, jobName);
        Path dir = adapterDir;
        String config = env.get(DOCKER_CONFIG_ENV);
        try {
            OciArtifacts artifacts = new OciArtifacts(Registries.client(target,
                    push.isInsecure() || Registries.insecure(target.registry(), env),
                    config == null || config.isBlank() ? null : Path.of(config)));
            String adapter = artifacts.push(adapterDir, target, ArtifactLayout.ADAPTER_ARTIFACT).pinned().toString();
            if (!push.isMerged()) {
                return new Pushed(adapter, null);
            }
            target = mergedTarget(target);
            dir = mergedDir;
            return new Pushed(adapter, artifacts.push(mergedDir, target, ArtifactLayout.MODEL_ARTIFACT).pinned().toString());
        } catch (RegistryException e) {
            throw new TrainingException(e.transientFailure() ? FailureReason.COMMUNICATION : FailureReason.BAD_CONFIG,
                    "output.push to " + target + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TrainingException(FailureReason.BAD_CONFIG, "output.push: cannot read " + dir + " or the "
                    + "registry credentials: " + e.getMessage(), e);
        }
    }
}
