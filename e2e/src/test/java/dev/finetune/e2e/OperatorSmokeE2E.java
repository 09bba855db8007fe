package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator image on a real cluster, installed from deploy/ (port of operator/e2e/smoke.sh): a CPU job in a
 * restricted, default-deny namespace whose "trainer" is a stand-in image that exits 0 (the image under test here is
 * the operator): waiting for a missing claim, the children, the job's NetworkPolicy naming the API server's
 * endpoint, the workers' RBAC, rank 0's report read into status and the printer columns, Succeeded, Events.
 * The steps build on each other, in order (a failed step skips the rest). One worker, not smoke.sh's two: a gang of
 * two needs ReadWriteMany claims (Validated=False PvcAccessMode otherwise), which stock Kind's StorageClass cannot bind.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorSmokeE2E {

    private static final String JOB = "smoke";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-smoke-e2e", "outputs", "models");

    @BeforeAll
    static void install() {
        SCENARIO.cluster().installOperator();
    }

    @Test
    @Order(1)
    void aMissingClaimKeepsTheJobWaitingAndSaysWhich() {
        TestNamespace ns = SCENARIO.ns();
        ns.applyStandInJob(JOB, "runs/smoke", SCENARIO.cluster().settings().smokeImage());
        await("Validated=False PvcNotFound").atMost(Duration.ofSeconds(60))
                .until(() -> ns.condition(JOB, "Validated"), "False PvcNotFound"::equals);
        assertThat(SCENARIO.client().batch().v1().jobs().inNamespace(ns.name()).withName(JOB + "-attempt-1").get())
                .as("no worker Job while a claim is missing").isNull();
    }

    @Test
    @Order(2)
    void withTheClaimTheJobStartsWithAllItsChildren() {
        TestNamespace ns = SCENARIO.ns();
        KubernetesClient client = SCENARIO.client();
        ns.claims("data");
        await("Validated=True").atMost(Duration.ofSeconds(120))
                .until(() -> ns.condition(JOB, "Validated"), c -> c.startsWith("True "));
        String n = ns.name();
        assertThat(client.configMaps().inNamespace(n).withName(JOB + "-config").get()).as("ConfigMap smoke-config").isNotNull();
        assertThat(client.configMaps().inNamespace(n).withName(JOB + "-progress").get()).as("ConfigMap smoke-progress").isNotNull();
        assertThat(client.services().inNamespace(n).withName(JOB + "-workers").get()).as("Service smoke-workers").isNotNull();
        assertThat(client.serviceAccounts().inNamespace(n).withName(JOB + "-trainer").get()).as("ServiceAccount").isNotNull();
        assertThat(client.rbac().roles().inNamespace(n).withName(JOB + "-trainer").get()).as("Role").isNotNull();
        assertThat(client.rbac().roleBindings().inNamespace(n).withName(JOB + "-trainer").get()).as("RoleBinding").isNotNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(n).withName(JOB).get()).as("NetworkPolicy").isNotNull();
        assertThat(client.batch().v1().jobs().inNamespace(n).withName(JOB + "-attempt-1").get()).as("worker Job").isNotNull();
        await("worker pods admitted under Pod Security restricted").atMost(Duration.ofSeconds(60))
                .until(() -> ns.pods("finetune.dev/job", JOB).size(), count -> count > 0);
    }

    /** Policies see traffic after kube-proxy translated the kubernetes Service, so the rule must name the endpoint. */
    @Test
    @Order(3)
    void theJobsNetworkPolicyOpensTheApiServersEndpointNotItsClusterIp() {
        EndpointSlice slice = SCENARIO.client().discovery().v1().endpointSlices().inNamespace("default")
                .withLabel("kubernetes.io/service-name", "kubernetes").list().getItems().getFirst();
        String endpoint = slice.getEndpoints().getFirst().getAddresses().getFirst() + "/32:"
                + slice.getPorts().getFirst().getPort();
        NetworkPolicy policy = SCENARIO.client().network().v1().networkPolicies().inNamespace(SCENARIO.ns().name()).withName(JOB).get();
        List<String> ipBlockRules = policy.getSpec().getEgress().stream()
                .filter(rule -> !rule.getTo().isEmpty() && rule.getTo().getFirst().getIpBlock() != null)
                .map(OperatorSmokeE2E::cidrAndPort).toList();
        assertThat(ipBlockRules).as("egress ipBlock rules of NetworkPolicy " + JOB).containsExactly(endpoint);
    }

    private static String cidrAndPort(NetworkPolicyEgressRule rule) {
        return rule.getTo().getFirst().getIpBlock().getCidr() + ":" + rule.getPorts().getFirst().getPort().getValue();
    }

    @Test
    @Order(4)
    void workersMayPatchTheirProgressConfigMapAndNothingElse() {
        assertThat(allowed("patch", "configmaps", JOB + "-progress")).as("patch configmap/smoke-progress").isTrue();
        assertThat(allowed("patch", "configmaps", JOB + "-config")).as("patch configmap/smoke-config").isFalse();
        assertThat(allowed("get", "secrets", null)).as("get secrets").isFalse();
    }

    private boolean allowed(String verb, String resource, String name) {
        TestNamespace ns = SCENARIO.ns();
        String sa = "system:serviceaccount:" + ns.name() + ":" + JOB + "-trainer";
        SubjectAccessReview review = new SubjectAccessReviewBuilder().withNewSpec().withUser(sa)
                .withGroups("system:serviceaccounts", "system:serviceaccounts:" + ns.name(), "system:authenticated")
                .withNewResourceAttributes().withNamespace(ns.name()).withVerb(verb).withResource(resource)
                .withName(name).endResourceAttributes().endSpec().build();
        return SCENARIO.client().authorization().v1().subjectAccessReview().create(review).getStatus().getAllowed();
    }

    /** Rank 0's report, written with the workers' own identity, becomes status and the printer columns. */
    @Test
    @Order(5)
    void rankZerosReportBecomesStatusAndColumns() throws Exception {
        TestNamespace ns = SCENARIO.ns();
        KubernetesClient client = SCENARIO.client();
        String sa = "system:serviceaccount:" + ns.name() + ":" + JOB + "-trainer";
        String report = """
                {"schemaVersion":1,"sequence":5,"attempt":1,"state":"TRAINING","progress":{"epoch":1,"totalEpochs":1,\
                "step":10,"totalSteps":20,"evalLoss":2.5731,"perplexity":13.108},\
                "history":[{"epoch":1,"step":10,"evalLoss":2.5731,"perplexity":13.108}]}""";
        // a plain merge PATCH, as the trainer sends it: the workers' Role has patch and nothing else, not even get
        String url = client.getMasterUrl().toString().replaceAll("/$", "") + "/api/v1/namespaces/" + ns.name()
                + "/configmaps/" + JOB + "-progress";
        HttpRequest patch = client.getHttpClient().newHttpRequestBuilder().uri(url)
                .header("Impersonate-User", sa)
                .header("Impersonate-Group", "system:serviceaccounts")
                .header("Impersonate-Group", "system:serviceaccounts:" + ns.name())
                .header("Impersonate-Group", "system:authenticated")
                .method("PATCH", "application/merge-patch+json",
                        Serialization.asJson(Map.of("data", Map.of("progress.json", report))))
                .build();
        HttpResponse<String> response = client.getHttpClient().sendAsync(patch, String.class).get(30, TimeUnit.SECONDS);
        assertThat(response.code()).as("PATCH of " + JOB + "-progress as " + sa + ": " + response.body()).isEqualTo(200);
        ns.awaitField(JOB, "/status/display/evalLoss", "2.573", Duration.ofSeconds(60));
        await("EVAL-LOSS column 2.573").atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(PrinterColumns.of(client, ns.name(), JOB))
                        .containsEntry("EVAL-LOSS", "2.573").containsEntry("PPL", "13.11")
                        .containsKeys("PHASE", "GPUS", "EPOCH", "AGE"));
    }

    @Test
    @Order(6)
    void theJobSucceedsWhenTheWorkersExitZero() {
        TestNamespace ns = SCENARIO.ns();
        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(5))).isEqualTo("Succeeded");
        assertThat(ns.condition(JOB, "Ready")).isEqualTo("True Succeeded");
        assertThat(PrinterColumns.of(SCENARIO.client(), ns.name(), JOB)).containsEntry("PHASE", "Succeeded");
        List<String> reasons = ns.events(JOB).stream().map(Event::getReason).toList();
        assertThat(reasons).as("Events on the job").isNotEmpty().contains("Succeeded");
    }
}
