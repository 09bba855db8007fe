package dev.finetune.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.TrainerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The install manifests: CRD copies equal the generated one, RBAC grants what the operator does and no more. */
class DeployManifestsTest {

    static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
    static final Path CRD = REPO.resolve("crds/finetunejobs.finetune.dev-v1.yml");

    /** group/resource:verb the operator's code uses (ChildWriter, Observer, EventRecorder, the reconciler, JOSDK informers). */
    static final List<String> USED = List.of(
            "finetune.dev/finetunejobs:get,list,watch,delete",
            "finetune.dev/finetunejobs/status:get,update,patch",
            "/configmaps:get,list,watch,create,update,patch",
            "/services:get,list,watch,create",
            "/serviceaccounts:get,list,watch,create",
            "rbac.authorization.k8s.io/roles:get,list,watch,create",
            "rbac.authorization.k8s.io/rolebindings:get,list,watch,create",
            "networking.k8s.io/networkpolicies:get,list,watch,create,update",
            "batch/jobs:get,list,watch,create,delete",
            "/pods:get,list,watch",
            "/persistentvolumeclaims:get,list,watch",
            "/events:create",
            "storage.k8s.io/storageclasses:get",
            "kueue.x-k8s.io/workloads:list");

    @Test
    void crdCopiesAreTheGeneratedCrd() throws Exception {
        String generated = Files.readString(CRD);
        assertThat(Files.readString(REPO.resolve("deploy/kustomize/base/crd/finetunejobs.finetune.dev-v1.yml")))
                .as("deploy/kustomize/base/crd is stale: run bash deploy/sync-crds.sh").isEqualTo(generated);
        assertThat(Files.readString(REPO.resolve("deploy/helm/finetune-operator/crds/finetunejobs.finetune.dev-v1.yml")))
                .as("the Helm chart's crds/ is stale: run bash deploy/sync-crds.sh").isEqualTo(generated);
    }

    @Test
    void clusterRoleGrantsExactlyWhatTheOperatorUses() throws Exception {
        Set<String> granted = grants(TrainerJson.yaml().readTree(Files.readString(REPO.resolve("deploy/kustomize/base/clusterrole.yaml"))));
        Set<String> used = new HashSet<>();
        for (String line : USED) {
            String[] parts = line.split(":");
            for (String verb : parts[1].split(",")) {
                used.add(parts[0] + ":" + verb);
            }
        }
        assertThat(granted).containsExactlyInAnyOrderElementsOf(used);
    }

    @Test
    void helmClusterRoleHasTheSameRules() throws Exception {
        String helm = Files.readString(REPO.resolve("deploy/helm/finetune-operator/templates/clusterrole.yaml"));
        String kustomize = Files.readString(REPO.resolve("deploy/kustomize/base/clusterrole.yaml"));
        assertThat(helm.substring(helm.indexOf("rules:"))).isEqualTo(kustomize.substring(kustomize.indexOf("rules:")));
    }

    /** Found on the e2e cluster: a restarted operator could never take over the existing Lease, so it never led. */
    @Test
    void leaderElectionMayPatchTheExistingLeaseInKustomizeAndHelm() throws Exception {
        for (String file : List.of("deploy/kustomize/base/leader-election-rbac.yaml",
                "deploy/helm/finetune-operator/templates/leader-election-rbac.yaml")) {
            String rbac = Files.readString(REPO.resolve(file));
            assertThat(rbac).as(file).contains("resources: [leases]").contains("verbs: [get, create, update, patch]");
        }
    }

    @Test
    void deploymentIsLockedDownAndProbed() throws Exception {
        JsonNode deployment = TrainerJson.yaml().readTree(Files.readString(REPO.resolve("deploy/kustomize/base/deployment.yaml")));
        JsonNode pod = deployment.at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
        assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(container.at("/securityContext/capabilities/drop/0").asText()).isEqualTo("ALL");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
        // a busy operator (a thousand jobs listed on a starved CPU) answers late; liveness waits a minute, not 3 s
        assertThat(container.at("/livenessProbe/timeoutSeconds").asInt()).as("liveness timeoutSeconds").isGreaterThanOrEqualTo(5);
        assertThat(container.at("/livenessProbe/periodSeconds").asInt() * container.at("/livenessProbe/failureThreshold").asInt())
                .as("seconds of failed liveness probes before a kill").isGreaterThanOrEqualTo(60);
        assertThat(container.at("/resources/limits/memory").asText()).isNotEmpty();
    }

    static Set<String> grants(JsonNode role) {
        Set<String> out = new HashSet<>();
        for (JsonNode rule : role.get("rules")) {
            for (JsonNode group : rule.get("apiGroups")) {
                for (JsonNode resource : rule.get("resources")) {
                    for (JsonNode verb : rule.get("verbs")) {
                        out.add(group.asText() + "/" + resource.asText() + ":" + verb.asText());
                    }
                }
            }
        }
        return out;
    }
}
