package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.NonResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The security tables of docs/security.md, generated on the cluster: what the operator's and a job's
 * ServiceAccounts may do (SelfSubjectRulesReview as each of them, the list {@code kubectl auth can-i --list} prints)
 * with the reason for every rule, Pod Security "restricted" on the job's and the operator's namespaces, NetworkPolicy
 * probes from a pod with a job's worker labels and from one without, and a Hugging Face token that never shows:
 * a job whose model comes from {@code hf://} with a token Secret (a random {@code hf_...} value made here) runs its
 * initializer, which cannot reach the Hub and fails the job (backoffLimit 0, so the failed pod stays), and the token
 * is searched for in everything the test can read.
 *
 * <p>The tables are written to e2e/target/security-table.md and must equal the generated section of
 * docs/security.md. After an intended change, rewrite it with {@code -De2e.security.update=true} and review the diff.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityE2E {

    private static final String NAMESPACE = "ft-security-e2e";
    private static final String JOB = "secure";
    private static final String TOKEN_SECRET = "hf-token";
    private static final String TOKEN = "hf_" + randomLetters(34);
    private static final String WORKER_PROBE = "probe-as-worker";
    private static final String OTHER_PROBE = "probe-unlabelled";
    private static final String CLUSTER_DNS_NAME = "kubernetes.default.svc.cluster.local";
    static final String BEGIN = "<!-- BEGIN GENERATED TABLES (SecurityE2E) -->";
    static final String END = "<!-- END GENERATED TABLES -->";
    static final Path GENERATED = Path.of("target", "security-table.md");

    /** Why each permission is there; a rule the cluster reports without a reason here fails the test. */
    private static final Map<String, String> OPERATOR_NEEDS = Map.ofEntries(
            Map.entry("finetune.dev/finetunejobs", "watch the jobs; delete one whose ttlSecondsAfterFinished expired"),
            Map.entry("finetune.dev/finetunejobs/status", "write the job's status"),
            Map.entry("/configmaps", "`<job>-config` (rewritten when the attempt or resume point changes) and "
                    + "`<job>-progress`; get/patch/update also because each job's Role grants them (RBAC lets a "
                    + "subject grant only what it holds)"),
            Map.entry("/services", "`<job>-workers`, the gang's headless Service"),
            Map.entry("/serviceaccounts", "`<job>-trainer`, the workers' own identity"),
            Map.entry("rbac.authorization.k8s.io/roles", "the workers' Role: patch their progress ConfigMap"),
            Map.entry("rbac.authorization.k8s.io/rolebindings", "binds that Role to `<job>-trainer`"),
            Map.entry("networking.k8s.io/networkpolicies", "`<job>`: opens what the gang needs in a default-deny "
                    + "namespace; updated when the API server's addresses change"),
            Map.entry("batch/jobs", "one worker Job per attempt; deleted on restart, suspend and deadline"),
            Map.entry("/pods", "the workers' exit codes, termination messages and readiness"),
            Map.entry("/persistentvolumeclaims", "validation: the claims a job names exist, are bound, allow its access mode"),
            Map.entry("/events", "Events on the jobs"),
            Map.entry("storage.k8s.io/storageclasses", "volumeBindingMode of a Pending claim's StorageClass"),
            Map.entry("coordination.k8s.io/leases", "leader election: one active replica"),
            Map.entry("kueue.x-k8s.io/workloads", "why Kueue holds a queued gang (its Workload's conditions), quoted in "
                    + "the job's message; nothing when Kueue is not installed"),
            Map.entry("discovery.k8s.io/endpointslices", "the API server's real addresses (`default/kubernetes`), "
                    + "for the per-job NetworkPolicy"));
    private static final Map<String, String> WORKERS_NEED = Map.of(
            "/configmaps", "rank 0 reports progress into its job's progress ConfigMap, and touches nothing else");
    /** What Kubernetes grants every authenticated user (system:basic-user, system:discovery, system:public-info-viewer). */
    private static final Map<String, String> EVERYONE_HAS = Map.of(
            "authorization.k8s.io/selfsubjectaccessreviews", "every authenticated user: ask what it may do",
            "authorization.k8s.io/selfsubjectrulesreviews", "every authenticated user: ask what it may do",
            "authentication.k8s.io/selfsubjectreviews", "every authenticated user: ask who it is",
            "non-resource", "every authenticated user: discovery, health and version");

    private static final List<String> RBAC_ROWS = new ArrayList<>();
    private static final List<String> POD_SECURITY_ROWS = new ArrayList<>();
    private static final List<String> NETWORK_ROWS = new ArrayList<>();
    private static final List<String> SECRET_ROWS = new ArrayList<>();

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims(NAMESPACE, "models", "data", "outputs");

    @BeforeAll
    static void aJobWithAHubTokenAndTwoProbePods() {
        SCENARIO.cluster().installOperator();
        TestNamespace ns = SCENARIO.ns();
        SCENARIO.client().resource(new SecretBuilder().withNewMetadata().withName(TOKEN_SECRET).withNamespace(ns.name())
                .endMetadata().addToStringData("token", TOKEN).build()).create();
        ns.apply("""
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s}
                spec:
                  model:
                    source: hf://finetune-e2e/no-such-model@main
                    tokenSecret: {name: %s}
                    pvc: {claimName: models, path: hub-cache}
                  dataset: {pvc: {claimName: data, path: train.jsonl}}
                  training: {epochs: 1, precision: fp32}
                  resources: {gpus: 0, workers: 1, cpu: 200m, memory: 512Mi}
                  output: {pvc: {claimName: outputs, path: runs/%s}}
                  backoffLimit: 0
                """.formatted(JOB, TOKEN_SECRET, JOB));
        String image = SCENARIO.cluster().settings().trainerImage();
        // the job's NetworkPolicy selects its workers by these two labels; the operator's informers need a third
        ns.startProbePod(WORKER_PROBE, image, Map.of("finetune.dev/job", JOB, "app.kubernetes.io/component", "worker"));
        ns.startProbePod(OTHER_PROBE, image, Map.of("app", "security-probe"));
    }

    @Test
    @Order(1)
    void eachServiceAccountMayDoWhatItNeedsAndNoMore() {
        String ns = SCENARIO.ns().name();
        String operator = "operator `" + E2eCluster.OPERATOR_NAMESPACE + "/" + E2eCluster.OPERATOR + "`";
        Set<String> everywhere = rules(E2eCluster.OPERATOR_NAMESPACE, E2eCluster.OPERATOR, ns);
        addRbacRows(operator, "every namespace", everywhere, OPERATOR_NEEDS);
        Set<String> own = rules(E2eCluster.OPERATOR_NAMESPACE, E2eCluster.OPERATOR, E2eCluster.OPERATOR_NAMESPACE);
        own.removeAll(everywhere);
        addRbacRows(operator, "`" + E2eCluster.OPERATOR_NAMESPACE + "` only", own, OPERATOR_NEEDS);
        Set<String> inDefault = rules(E2eCluster.OPERATOR_NAMESPACE, E2eCluster.OPERATOR, "default");
        inDefault.removeAll(everywhere);
        addRbacRows(operator, "`default` only", inDefault, OPERATOR_NEEDS);
        Set<String> workers = rules(ns, JOB + "-trainer", ns);
        addRbacRows("a job's workers `<job>-trainer`", "the job's namespace", workers, WORKERS_NEED);
        Set<String> elsewhere = rules(ns, JOB + "-trainer", E2eCluster.OPERATOR_NAMESPACE);
        elsewhere.removeIf(rule -> rule.startsWith("non-resource|") || EVERYONE_HAS.containsKey(rule.split("\\|")[0]));
        assertThat(elsewhere).as("what the job's ServiceAccount may do outside its namespace").isEmpty();
    }

    /**
     * The rules of a SelfSubjectRulesReview made as the ServiceAccount, one per resource as "group/resource|verbs|names"
     * (and "non-resource|verbs|urls"); names are written with the job's name as {@code <job>}.
     */
    private static Set<String> rules(String saNamespace, String sa, String namespace) {
        var config = new ConfigBuilder(SCENARIO.client().getConfiguration())
                .withImpersonateUsername("system:serviceaccount:" + saNamespace + ":" + sa)
                .withImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated")
                .build();
        SelfSubjectRulesReview review;
        try (KubernetesClient as = new KubernetesClientBuilder().withConfig(config).build()) {
            review = as.authorization().v1().selfSubjectRulesReview().create(new SelfSubjectRulesReviewBuilder()
                    .withNewSpec().withNamespace(namespace).endSpec().build());
        }
        assertThat(review.getStatus().getIncomplete()).as("rules review of " + sa + " in " + namespace + " incomplete: "
                + review.getStatus().getEvaluationError()).isFalse();
        Map<String, Set<String>> verbsByResource = new TreeMap<>();
        for (ResourceRule rule : review.getStatus().getResourceRules()) {
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    String names = rule.getResourceNames().stream().map(n -> n.replace(JOB + "-", "<job>-"))
                            .sorted().collect(Collectors.joining(", "));
                    verbsByResource.computeIfAbsent(group + "/" + resource + "|" + names, k -> new TreeSet<>())
                            .addAll(rule.getVerbs());
                }
            }
        }
        Set<String> rules = new TreeSet<>();
        verbsByResource.forEach((key, verbs) -> {
            String[] groupResourceAndNames = key.split("\\|", -1);
            rules.add(groupResourceAndNames[0] + "|" + verbs(verbs) + "|" + groupResourceAndNames[1]);
        });
        Map<String, Set<String>> urlsByVerbs = new TreeMap<>();
        for (NonResourceRule rule : review.getStatus().getNonResourceRules()) {
            urlsByVerbs.computeIfAbsent(verbs(new TreeSet<>(rule.getVerbs())), k -> new TreeSet<>()).addAll(rule.getNonResourceURLs());
        }
        urlsByVerbs.forEach((verbs, urls) -> rules.add("non-resource|" + verbs + "|" + String.join(", ", urls)));
        return rules;
    }

    /** Verbs in the order of kubectl's help (read, then write), others after them alphabetically. */
    private static String verbs(Set<String> verbs) {
        List<String> order = List.of("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection");
        return Stream.concat(order.stream().filter(verbs::contains), verbs.stream().filter(v -> !order.contains(v)).sorted())
                .collect(Collectors.joining(", "));
    }

    private static void addRbacRows(String identity, String where, Set<String> rules, Map<String, String> needs) {
        List<String> unexplained = new ArrayList<>();
        for (String rule : rules) {
            String[] parts = rule.split("\\|", -1);
            String groupResource = parts[0];
            String why = needs.getOrDefault(groupResource, EVERYONE_HAS.get(groupResource));
            if (why == null) {
                unexplained.add(rule);
                continue;
            }
            String group = groupResource.equals("non-resource") ? "" : groupResource.substring(0, groupResource.indexOf('/'));
            String resource = groupResource.equals("non-resource") ? "(non-resource URLs)" : groupResource.substring(groupResource.indexOf('/') + 1);
            String names = parts[2].isEmpty() ? "" : Stream.of(parts[2].split(", ")).map(n -> "`" + n + "`")
                    .collect(Collectors.joining(", "));
            RBAC_ROWS.add(row(identity, where, group.isEmpty() && !groupResource.equals("non-resource") ? "core" : group,
                    resource, parts[1], names, why));
        }
        assertThat(unexplained).as(identity + " in " + where + " may do more than SecurityE2E knows a reason for: "
                + "remove the permission from its Role, or add why it is needed").isEmpty();
    }

    @Test
    @Order(2)
    void theJobsNamespaceAndTheOperatorsEnforceRestricted() {
        KubernetesClient client = SCENARIO.client();
        TestNamespace ns = SCENARIO.ns();
        Pod worker = await("the job's worker pod").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ns.pods("finetune.dev/job", JOB).stream()
                        .filter(p -> p.getMetadata().getLabels().containsKey("app.kubernetes.io/managed-by")).findFirst(),
                        java.util.Optional::isPresent).orElseThrow();
        for (String namespace : List.of(ns.name(), E2eCluster.OPERATOR_NAMESPACE)) {
            String where = namespace.equals(ns.name()) ? "the job's namespace" : "`" + namespace + "` (the operator's)";
            var labels = client.namespaces().withName(namespace).get().getMetadata().getLabels();
            POD_SECURITY_ROWS.add(row(where, "label `pod-security.kubernetes.io/enforce`",
                    String.valueOf(labels.get("pod-security.kubernetes.io/enforce"))));
            POD_SECURITY_ROWS.add(row(where, "a privileged pod (server-side dry run)", privilegedPodOutcome(namespace)));
        }
        POD_SECURITY_ROWS.add(row("the job's namespace", "the job's worker pod", "admitted: " + securityContexts(worker)));
        Pod operatorPod = SCENARIO.cluster().operatorPods().getFirst();
        POD_SECURITY_ROWS.add(row("`" + E2eCluster.OPERATOR_NAMESPACE + "` (the operator's)", "the operator's pod",
                "admitted: " + securityContexts(operatorPod)));
    }

    private static String privilegedPodOutcome(String namespace) {
        Pod privileged = Serialization.unmarshal("""
                apiVersion: v1
                kind: Pod
                metadata: {name: privileged-probe, namespace: %s}
                spec:
                  containers: [{name: c, image: %s, securityContext: {privileged: true}}]
                """.formatted(namespace, SCENARIO.cluster().settings().trainerImage()), Pod.class);
        try {
            SCENARIO.client().resource(privileged).dryRun().create();
            return "admitted (Pod Security not enforced)";
        } catch (KubernetesClientException e) {
            String message = String.valueOf(e.getStatus() == null ? e.getMessage() : e.getStatus().getMessage());
            assertThat(e.getCode()).as("refusal of a privileged pod in " + namespace + ": " + message).isEqualTo(403);
            return message.contains("violates PodSecurity \"restricted:") ? "refused: violates PodSecurity \"restricted\""
                    : "refused (403): " + message;
        }
    }

    /** The pod's and each container's security settings that "restricted" checks, in words. */
    private static String securityContexts(Pod pod) {
        var podContext = pod.getSpec().getSecurityContext();
        List<String> parts = new ArrayList<>();
        parts.add("runAsNonRoot " + podContext.getRunAsNonRoot() + ", seccomp "
                + (podContext.getSeccompProfile() == null ? "unset" : podContext.getSeccompProfile().getType()));
        List<io.fabric8.kubernetes.api.model.Container> containers = new ArrayList<>(pod.getSpec().getInitContainers());
        containers.addAll(pod.getSpec().getContainers());
        for (var c : containers) {
            var sc = c.getSecurityContext();
            String kind = pod.getSpec().getInitContainers().contains(c) ? "init container" : "container";
            parts.add(kind + " `" + c.getName() + "`: allowPrivilegeEscalation " + (sc == null ? "unset" : sc.getAllowPrivilegeEscalation())
                    + ", drops " + (sc == null || sc.getCapabilities() == null ? "nothing" : sc.getCapabilities().getDrop()));
        }
        return String.join("; ", parts);
    }

    @Test
    @Order(3)
    void networkPolicyOpensWhatAWorkerNeedsAndDefaultDenyTheRest() {
        TestNamespace ns = SCENARIO.ns();
        KubernetesClient client = SCENARIO.client();
        String apiIp = client.services().inNamespace("default").withName("kubernetes").get().getSpec().getClusterIP();
        String nodeIp = client.pods().inNamespace(ns.name()).withName(WORKER_PROBE).get().getStatus().getHostIP();
        String worker = "a pod with the job's worker labels";
        String other = "a pod without them";
        await("the job's NetworkPolicy").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> client.network().v1().networkPolicies().inNamespace(ns.name()).withName(JOB).get() != null);
        // an open path gets 20 s (the policy may take a moment to be programmed, an exec may be slow); a blocked one
        // must fail twice in a row
        probe(worker, "DNS (`" + CLUSTER_DNS_NAME + "`)", true, () -> ns.resolves(WORKER_PROBE, CLUSTER_DNS_NAME));
        probe(worker, "the API server (its Service, port 443)", true, () -> ns.reachesTcp(WORKER_PROBE, apiIp, 443));
        probe(worker, "the kubelet (node, port 10250)", false, () -> ns.reachesTcp(WORKER_PROBE, nodeIp, 10250));
        probe(other, "DNS (`" + CLUSTER_DNS_NAME + "`)", false, () -> ns.resolves(OTHER_PROBE, CLUSTER_DNS_NAME));
        probe(other, "the API server (its Service, port 443)", false, () -> ns.reachesTcp(OTHER_PROBE, apiIp, 443));
    }

    private static void probe(String from, String to, boolean expected, java.util.function.BooleanSupplier connects) {
        boolean observed = connects.getAsBoolean() || connects.getAsBoolean();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (expected && !observed && System.nanoTime() < deadline) {
            observed = connects.getAsBoolean();
        }
        NETWORK_ROWS.add(row(from, to, expected ? "open" : "blocked", observed ? "open" : "blocked"));
        assertThat(observed).as(from + " -> " + to).isEqualTo(expected);
    }

    @Test
    @Order(4)
    void theHubTokenAppearsNowhereTheClusterShows() {
        KubernetesClient client = SCENARIO.client();
        TestNamespace ns = SCENARIO.ns();
        await("the initializer to fail (no such model on the hub, or the hub out of reach) and the operator to notice")
                .atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .until(() -> initializerTerminated(ns) && ns.field(JOB, "/status/phase").equals("Failed"));
        List<Pod> pods = client.pods().inNamespace(ns.name()).list().getItems();

        // the token did reach the initializer, by reference
        Pod worker = pods.stream().filter(p -> !p.getSpec().getInitContainers().isEmpty()).findFirst().orElseThrow();
        EnvVar tokenVar = worker.getSpec().getInitContainers().getFirst().getEnv().stream()
                .filter(e -> e.getName().equals("FINETUNE_MODEL_TOKEN")).findFirst().orElseThrow();
        assertThat(tokenVar.getValue()).as("a literal token value in the pod spec").isNull();
        assertThat(tokenVar.getValueFrom().getSecretKeyRef().getName()).isEqualTo(TOKEN_SECRET);

        StringBuilder logs = new StringBuilder();
        StringBuilder messages = new StringBuilder();
        for (Pod pod : pods) {
            for (ContainerStatus status : allStatuses(pod)) {
                var container = client.pods().inNamespace(ns.name()).withName(pod.getMetadata().getName()).inContainer(status.getName());
                logs.append(readLog(() -> container.getLog()));
                if (status.getLastState() != null && status.getLastState().getTerminated() != null) {
                    logs.append(readLog(() -> container.terminated().getLog()));
                }
                Stream.of(status.getState(), status.getLastState()).filter(Objects::nonNull).map(s -> s.getTerminated())
                        .filter(Objects::nonNull).map(ContainerStateTerminated::getMessage).filter(Objects::nonNull)
                        .forEach(m -> messages.append(m).append('\n'));
            }
        }
        assertThat(logs).as("the initializer's log (it must have run and said why it failed)").isNotEmpty();
        assertThat(messages).as("termination messages").isNotEmpty();
        String events = client.v1().events().inNamespace(ns.name()).list().getItems().stream()
                .map(e -> e.getReason() + " " + e.getMessage()).collect(Collectors.joining("\n"));
        assertThat(events).as("Events in the namespace").isNotEmpty();
        String job = Serialization.asJson(ns.job(JOB));
        String configMaps = Serialization.asJson(client.configMaps().inNamespace(ns.name()).list().getItems());
        String specs = Serialization.asJson(pods) + Serialization.asJson(client.batch().v1().jobs().inNamespace(ns.name()).list().getItems());
        String operatorLog = SCENARIO.cluster().operatorLogs(100_000);

        secretRow("pod logs", "every container of every pod, the init container included, current and previous", logs);
        secretRow("termination messages", "every container's state and last state, init included", messages);
        secretRow("Events", "every Event in the namespace (reason, message)", events);
        secretRow("the FineTuneJob", "the whole object, status included", job);
        secretRow("ConfigMaps", "every ConfigMap in the namespace (the trainer config, the progress report)", configMaps);
        secretRow("pod and Job specs", "the token is a `secretKeyRef` (`" + TOKEN_SECRET + "`), never a literal value", specs);
        secretRow("the operator's log", "the whole log of the operator's pod", operatorLog);
    }

    private static boolean initializerTerminated(TestNamespace ns) {
        return SCENARIO.client().pods().inNamespace(ns.name()).withLabel("finetune.dev/job", JOB).list().getItems().stream()
                .flatMap(p -> p.getStatus().getInitContainerStatuses().stream())
                .anyMatch(s -> s.getState() != null && s.getState().getTerminated() != null
                        || s.getLastState() != null && s.getLastState().getTerminated() != null);
    }

    private static List<ContainerStatus> allStatuses(Pod pod) {
        List<ContainerStatus> statuses = new ArrayList<>(pod.getStatus().getInitContainerStatuses());
        statuses.addAll(pod.getStatus().getContainerStatuses());
        return statuses;
    }

    private static String readLog(java.util.function.Supplier<String> log) {
        try {
            return Objects.requireNonNullElse(log.get(), "") + "\n";
        } catch (KubernetesClientException e) {
            return ""; // a container that never started has no log
        }
    }

    private static void secretRow(String where, String what, CharSequence text) {
        boolean found = text.toString().contains(TOKEN);
        SECRET_ROWS.add(row(where, what, found ? "**found**" : "no"));
        assertThat(found).as("the Hub token appears in " + where).isFalse();
    }

    @Test
    @Order(5)
    void theTablesMatchDocsSecurityMd() throws IOException {
        String tables = tables();
        Files.createDirectories(GENERATED.getParent());
        Files.writeString(GENERATED, tables);
        Path doc = SCENARIO.cluster().settings().repo().resolve("docs/security.md");
        String text = Files.readString(doc);
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        assertThat(begin).as(doc + " has the markers " + BEGIN + " and " + END).isNotNegative();
        assertThat(end).as(doc + " has the marker " + END).isGreaterThan(begin);
        String committed = text.substring(begin + BEGIN.length(), end);
        if (Boolean.getBoolean("e2e.security.update")) {
            Files.writeString(doc, text.substring(0, begin + BEGIN.length()) + "\n" + tables + text.substring(end));
            System.out.println("[e2e] rewrote the tables of " + doc + "; review the diff");
            return;
        }
        assertThat(committed.strip()).as("the tables of docs/security.md differ from what the cluster shows ("
                + GENERATED.toAbsolutePath() + "); after an intended change rerun with -De2e.security.update=true"
                + " and review the diff").isEqualTo(tables.strip());
    }

    static String tables() {
        return "\n### What each ServiceAccount may do\n\n"
                + "| identity | where | API group | resource | verbs | names | why |\n|---|---|---|---|---|---|---|\n"
                + String.join("\n", RBAC_ROWS) + "\n\n"
                + "### Pod Security\n\n| namespace | check | result |\n|---|---|---|\n"
                + String.join("\n", POD_SECURITY_ROWS) + "\n\n"
                + "### NetworkPolicy probes\n\n| from | to | policy says | observed |\n|---|---|---|---|\n"
                + String.join("\n", NETWORK_ROWS) + "\n\n"
                + "### A Hugging Face token (`" + TOKEN_SECRET + "` Secret) searched for\n\n"
                + "| where | what was read | token found |\n|---|---|---|\n"
                + String.join("\n", SECRET_ROWS) + "\n";
    }

    private static String row(String... cells) {
        return "| " + Stream.of(cells).map(c -> c.replace("|", "\\|").replace("\n", " ")).collect(Collectors.joining(" | ")) + " |";
    }

    private static String randomLetters(int n) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        SecureRandom random = new SecureRandom();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            out.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return out.toString();
    }
}
