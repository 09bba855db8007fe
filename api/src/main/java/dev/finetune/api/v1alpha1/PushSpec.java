package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the finished adapter (and, if asked, the merged model) is published, besides the output volume. */
@JsonClassDescription("Publishes the final adapter as an OCI artifact (ORAS layout, artifactType "
        + "application/vnd.finetune.adapter.v1); its digest is recorded in status.outputs.pushedAdapter.")
public class PushSpec {

    @Required
    @Size(min = 1, max = 512)
    @ValidationRule(value = "self.matches('^[a-zA-Z0-9][-a-zA-Z0-9.]*(:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$')",
            message = "output.push.oci must be an OCI reference REGISTRY/REPOSITORY[:TAG] without a scheme, "
                    + "e.g. registry.example:5000/adapters/qwen3-summary:v1")
    @JsonPropertyDescription("Target reference, REGISTRY/REPOSITORY[:TAG] (tag default: the job's name).")
    private String oci;

    @JsonPropertyDescription("A Secret holding a Docker config JSON (key `.dockerconfigjson` unless set) with credentials "
            + "for the registry. Default: anonymous.")
    private SecretKeyRef credentialsSecret;

    @Default("false")
    @JsonPropertyDescription("Use plain HTTP instead of HTTPS (registries on a private network only).")
    private boolean insecure = false;

    @Default("false")
    @JsonPropertyDescription("Also push the merged model (needs output.merge: true) as an OCI artifact (artifactType "
            + "application/vnd.finetune.model.v1) to the same repository, tagged TAG-merged; its digest is recorded in "
            + "status.outputs.pushedMerged.")
    private boolean merged = false;

    public String getOci() {
        return oci;
    }

    public void setOci(String oci) {
        this.oci = oci;
    }

    public SecretKeyRef getCredentialsSecret() {
        return credentialsSecret;
    }

    public void setCredentialsSecret(SecretKeyRef credentialsSecret) {
        this.credentialsSecret = credentialsSecret;
    }

    public boolean isInsecure() {
        return insecure;
    }

    public void setInsecure(boolean insecure) {
        this.insecure = insecure;
    }

    public boolean isMerged() {
        return merged;
    }

    public void setMerged(boolean merged) {
        this.merged = merged;
    }
}
