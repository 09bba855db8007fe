package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Load on a real API server, a benchmark and not part of the suite (its name is outside the *E2E pattern; run it with
 * {@code -Dit.test=LoadBench}, the command in docs/reliability.md, "Load on a real API server"). The operator is
 * installed as the suite installs it (image, Deployment, 1 CPU and 512 MiB limits).
 * <ol>
 *   <li>Burst: {@code load.jobs} FineTuneJobs (default 1000) created at once from 16 client threads in one namespace;
 *       the time until every one is Validated=True and has its eight children; the operator's API requests (an
 *       API Priority and Fairness FlowSchema matching only its ServiceAccount counts them), the API server's latency
 *       (apiserver_request_duration_seconds), the operator's heap (peak of 5 s samples, and retained after a full
 *       collection) and its resident memory.</li>
 *   <li>Churn: {@code load.churn.jobs} jobs (default 100) created, converged and deleted, cycle after cycle, for
 *       {@code load.churn.minutes} (default 10); asserts that every child has its job as owner and that the garbage
 *       collector removes every one (its pace reported), and that the operator's retained heap does not grow (full
 *       collections at the start, the middle, and the end once the children are gone).</li>
 * </ol>
 * {@code -Dload.operator.maxHeap=256m} runs the operator with that heap limit (-Xmx through JAVA_TOOL_OPTIONS), to see
 * whether it converges inside the goal's heap rather than only how much it uses when allowed more.
 * Every job carries a Kueue queue label, so its worker Job is created suspended (Kueue admits a queued workload by
 * unsuspending it, and this cluster runs no Kueue): all the operator's objects exist, no pod runs. Results:
 * {@code LOAD-BENCH} lines on stdout, e2e/target/load/burst.json and churn.json.
 */
@ExtendWith(E2eExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoadBench {

    static final String BURST_NAMESPACE = "ft-load";
    static final String CHURN_NAMESPACE = "ft-load-churn";
    static final String FLOW_SCHEMA = "finetune-operator-load-bench";
    static final String CYCLE_LABEL = "finetune.dev/load-cycle";
    static final String MANAGED_SELECTOR_KEY = "app.kubernetes.io/managed-by";
    static final String MANAGED_SELECTOR_VALUE = "finetune-operator";
    /** The children of a started job: trainer config and progress ConfigMaps, Service, ServiceAccount, Role, RoleBinding, NetworkPolicy, worker Job. */
    static final int CHILDREN_PER_JOB = 8;
    static final List<Class<? extends HasMetadata>> CHILD_TYPES = List.of(ConfigMap.class, Service.class,
            ServiceAccount.class, Role.class, RoleBinding.class, NetworkPolicy.class, Job.class);
    static final int CLIENT_THREADS = 16;
    static final Path OUT = Path.of("target", "load");
    /** Goal of issue 18: 1000 jobs reconciled in under 60 s with the operator's heap under 256 MiB. */
    static final double GOAL_SECONDS = 60;
    static final double GOAL_HEAP_MIB = 256;

    private static E2eCluster shared;

    @Test
    @Order(1)
    void burstOfJobsAtOnce(E2eCluster cluster) throws Exception {
        shared = cluster;
        int n = Integer.getInteger("load.jobs", 1000);
        KubernetesClient client = cluster.client();
        cluster.installOperator();
        String maxHeap = System.getProperty("load.operator.maxHeap");
        if (maxHeap != null) {
            limitOperatorHeap(cluster, maxHeap);
        }
        countOperatorRequests(client);
        OperatorProbe operator = new OperatorProbe(cluster);
        int restartsBefore = operatorRestarts(cluster);
        TestNamespace ns = TestNamespace.create(client, BURST_NAMESPACE);
        ns.claims("models", "data", "outputs");

        long heapIdle = operator.heapAfterFullGcBytes();
        String loadBefore = loadAverage();
        PrometheusText apiBefore = apiServerMetrics(client);
        AtomicLong heapPeak = new AtomicLong(operator.heapUsedBytes());
        ScheduledExecutorService sampler = sampleHeapEvery(Duration.ofSeconds(5), operator, heapPeak);

        OperatorProbe.Cpu cpuBefore = operator.cpu();
        long start = System.nanoTime();
        createJobs(client, ns.name(), "load", n, null);
        double createSeconds = seconds(start);
        double validatedSeconds = Double.NaN;
        double childrenSeconds;
        while (true) {
            List<JsonNode> jobs = orNull(() -> jobs(client, ns.name(), null));
            if (jobs == null) {
                Thread.sleep(2000);
                continue;
            }
            long validated = jobs.stream().filter(LoadBench::validated).count();
            if (validated == n && Double.isNaN(validatedSeconds)) {
                validatedSeconds = seconds(start);
            }
            if (validated == n && Long.valueOf(n).equals(orNull(() -> completeJobs(client, ns.name(), uids(jobs))))) {
                childrenSeconds = seconds(start);
                break;
            }
            if (seconds(start) > 900) {
                throw new AssertionError("not converged after 15 minutes: " + validated + " of " + n + " Validated");
            }
            Thread.sleep(2000);
        }
        sampler.shutdownNow();
        OperatorProbe.Cpu cpuAfter = operator.cpu();
        heapPeak.accumulateAndGet(operator.heapUsedBytes(), Math::max);
        PrometheusText apiAfter = apiServerMetrics(client);
        String loadAfter = loadAverage();
        long heapRetained = operator.heapAfterFullGcBytes();
        OperatorProbe.Memory memory = operator.memory();

        double requests = operatorRequests(apiAfter) - operatorRequests(apiBefore);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("jobs", n);
        result.put("createSeconds", round(createSeconds));
        result.put("allValidatedSeconds", round(validatedSeconds));
        result.put("allChildrenSeconds", round(childrenSeconds));
        result.put("operatorApiRequests", (long) requests);
        result.put("operatorApiRequestsPerJob", round(requests / n));
        result.put("operatorApfRejected", (long) (rejected(apiAfter) - rejected(apiBefore)));
        result.putAll(latencies(apiBefore, apiAfter));
        result.put("apiWritesByResource", writesByResource(apiBefore, apiAfter));
        result.put("apiServerCpuSeconds", round(apiAfter.sum("process_cpu_seconds_total", l -> true)
                - apiBefore.sum("process_cpu_seconds_total", l -> true)));
        if (cpuBefore != null && cpuAfter != null) {
            result.put("operatorCpuSeconds", round(cpuAfter.usedSeconds() - cpuBefore.usedSeconds()));
            result.put("operatorCpuThrottledSeconds", round(cpuAfter.throttledSeconds() - cpuBefore.throttledSeconds()));
        }
        result.put("operatorMaxHeapMiB", mib((long) operator.metrics().sum("jvm_memory_max_bytes",
                labels -> "heap".equals(labels.get("area")))));
        result.put("operatorRestarts", operatorRestarts(cluster) - restartsBefore);
        result.put("heapIdleAfterGcMiB", mib(heapIdle));
        result.put("heapPeakMiB", mib(heapPeak.get()));
        result.put("heapRetainedAfterGcMiB", mib(heapRetained));
        result.put("rssMiB", mib(memory.rssBytes()));
        result.put("peakRssMiB", mib(memory.peakRssBytes()));
        result.put("loadAverageBefore", loadBefore);
        result.put("loadAverageAfter", loadAfter);
        result.put("hostCpus", Runtime.getRuntime().availableProcessors());
        result.put("goal", goal(childrenSeconds, mib(heapPeak.get()), mib(heapRetained), n));
        report("burst", result);

        deleteAndAwaitGone(client, ns);
    }

    @Test
    @Order(2)
    void churnLeavesNoChildrenAndNoHeapBehind(E2eCluster cluster) throws Exception {
        shared = cluster;
        int perCycle = Integer.getInteger("load.churn.jobs", 100);
        double minutes = Double.parseDouble(System.getProperty("load.churn.minutes", "10"));
        KubernetesClient client = cluster.client();
        cluster.installOperator();
        OperatorProbe operator = new OperatorProbe(cluster);
        TestNamespace ns = TestNamespace.create(client, CHURN_NAMESPACE);
        ns.claims("models", "data", "outputs");

        String loadBefore = loadAverage();
        long heapStart = operator.heapAfterFullGcBytes();
        Long heapMiddle = null;
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        long middle = start + (end - start) / 2;
        List<Double> cycleSeconds = new ArrayList<>();
        int cycle = 0;
        while (System.nanoTime() < end) {
            long cycleStart = System.nanoTime();
            String label = String.valueOf(cycle);
            createJobs(client, ns.name(), "churn-" + cycle, perCycle, label);
            while (true) {
                List<JsonNode> jobs = orNull(() -> jobs(client, ns.name(), label));
                if (jobs != null && jobs.size() == perCycle && jobs.stream().allMatch(LoadBench::validated)
                        && Long.valueOf(perCycle).equals(orNull(() -> completeJobs(client, ns.name(), uids(jobs))))) {
                    break;
                }
                if (seconds(cycleStart) > 300) {
                    throw new AssertionError("cycle " + cycle + " did not converge within 5 minutes");
                }
                Thread.sleep(1000);
            }
            cycleSeconds.add(seconds(cycleStart));
            client.genericKubernetesResources(TestNamespace.API_VERSION, TestNamespace.KIND).inNamespace(ns.name())
                    .withLabel(CYCLE_LABEL, label).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
            cycle++;
            if (heapMiddle == null && System.nanoTime() >= middle) {
                heapMiddle = operator.heapAfterFullGcBytes();
            }
        }
        double churnSeconds = seconds(start);
        // Kubernetes' garbage collector removes a deleted job's children in the background, at the pace of
        // kube-controller-manager's API rate limit (20 requests/s by default), which a fast churn outruns. A child
        // without an owner reference to a FineTuneJob is never collected: that is a leak, found at once. The rest
        // is waited for while the collector makes progress (a minute without any ends the wait: those leaked).
        long settle = System.nanoTime();
        List<HasMetadata> pending = children(client, ns.name());
        int pendingAtLastDelete = pending.size();
        List<String> uncollectable = pending.stream().filter(child -> child.getMetadata().getOwnerReferences().stream()
                .noneMatch(owner -> TestNamespace.KIND.equals(owner.getKind()))).map(LoadBench::describe).sorted().toList();
        long lastProgress = System.nanoTime();
        int lastCount = pending.size();
        while (!pending.isEmpty() && seconds(lastProgress) < 60 && seconds(settle) < 3600) {
            Thread.sleep(5000);
            List<HasMetadata> now = orNull(() -> children(client, ns.name()));
            if (now != null && now.size() < lastCount) {
                lastProgress = System.nanoTime();
                lastCount = now.size();
            }
            pending = now == null ? pending : now;
        }
        double settleSeconds = seconds(settle);
        List<String> left = pending.stream().map(LoadBench::describe).sorted().toList();
        long heapEnd = operator.heapAfterFullGcBytes();
        OperatorProbe.Memory memory = operator.memory();

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("jobsPerCycle", perCycle);
        result.put("minutes", minutes);
        result.put("cycles", cycle);
        result.put("jobsCreatedAndDeleted", cycle * perCycle);
        result.put("cycleSecondsMedian", round(median(cycleSeconds)));
        result.put("cycleSecondsMax", round(cycleSeconds.stream().mapToDouble(d -> d).max().orElse(Double.NaN)));
        result.put("churnSeconds", round(churnSeconds));
        result.put("childrenPendingGcAtLastDelete", pendingAtLastDelete);
        result.put("childrenWithoutJobOwner", uncollectable.size());
        result.put("childrenGoneSecondsAfterLastDelete", left.isEmpty() ? round(settleSeconds) : null);
        result.put("garbageCollectedPerSecond", round(pendingAtLastDelete / settleSeconds));
        result.put("leakedChildren", left.size());
        result.put("heapAfterGcStartMiB", mib(heapStart));
        result.put("heapAfterGcMiddleMiB", heapMiddle == null ? null : mib(heapMiddle));
        result.put("heapAfterGcEndMiB", mib(heapEnd));
        result.put("rssMiB", mib(memory.rssBytes()));
        result.put("peakRssMiB", mib(memory.peakRssBytes()));
        result.put("loadAverageBefore", loadBefore);
        result.put("loadAverageAfter", loadAverage());
        report("churn", result);

        assertThat(uncollectable).as("children without an owner reference to their FineTuneJob (never collected)").isEmpty();
        assertThat(left).as("children the garbage collector did not remove (no progress for a minute, "
                + round(settleSeconds) + " s after the last delete)").isEmpty();
        long allowed = Math.max(16L << 20, heapStart / 10);
        assertThat(heapEnd).as("retained heap after the churn (start %.1f MiB, middle %s MiB, end %.1f MiB): "
                        + "it may not grow by more than %.1f MiB", mib(heapStart), heapMiddle == null ? "-" : mib(heapMiddle),
                mib(heapEnd), mib(allowed)).isLessThanOrEqualTo(heapStart + allowed);
        ns.delete();
    }

    @AfterAll
    static void removeTheFlowSchema() {
        if (shared != null) {
            shared.client().genericKubernetesResources("flowcontrol.apiserver.k8s.io/v1", "FlowSchema")
                    .withName(FLOW_SCHEMA).delete();
        }
    }

    // ---- jobs ----

    /**
     * Creates jobs {@code prefix-0..n-1} from {@link #CLIENT_THREADS} threads: the quickstart's shape on the claims
     * models, data and outputs, each with its own output path, queued (worker Job suspended, no pods).
     */
    static void createJobs(KubernetesClient client, String namespace, String prefix, int n, String cycle)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENT_THREADS);
        try {
            List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = prefix + "-" + i;
                GenericKubernetesResource job = Serialization.unmarshal("""
                        apiVersion: finetune.dev/v1alpha1
                        kind: FineTuneJob
                        metadata:
                          name: %s
                          namespace: %s
                          labels: {kueue.x-k8s.io/queue-name: load-bench%s}
                        spec:
                          model: {pvc: {claimName: models, path: tiny}}
                          dataset: {pvc: {claimName: data, path: train.jsonl}}
                          training: {epochs: 1, precision: fp32}
                          resources: {gpus: 0, workers: 1, cpu: 100m, memory: 128Mi}
                          output: {pvc: {claimName: outputs, path: runs/%s}}
                        """.formatted(name, namespace, cycle == null ? "" : ", " + CYCLE_LABEL + ": \"" + cycle + "\"", name),
                        GenericKubernetesResource.class);
                created.add(pool.submit(() -> createRetrying(client, job)));
            }
            for (Future<?> f : created) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Creates the job, retrying a request that timed out or lost its connection (an overloaded API server) up to
     * five times; AlreadyExists after such a retry means the earlier attempt got through.
     */
    static Object createRetrying(KubernetesClient client, GenericKubernetesResource job) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return client.resource(job).create();
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (attempt > 1 && e.getCode() == 409) {
                    return null;
                }
                if (attempt == 5 || e.getCode() >= 400 && e.getCode() < 500 && e.getCode() != 429) {
                    throw e;
                }
                System.out.println("[load] create " + job.getMetadata().getName() + " failed (" + e.getMessage() + "), again");
                Thread.sleep(2000L * attempt);
            }
        }
    }

    /** The value, or null when the API server did not answer in time (logged; the poll tries again). */
    static <T> T orNull(java.util.function.Supplier<T> read) {
        try {
            return read.get();
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            System.out.println("[load] poll failed (" + e.getMessage() + "), again");
            return null;
        }
    }

    static List<JsonNode> jobs(KubernetesClient client, String namespace, String cycle) {
        var jobs = client.genericKubernetesResources(TestNamespace.API_VERSION, TestNamespace.KIND).inNamespace(namespace);
        var list = cycle == null ? jobs.list() : jobs.withLabel(CYCLE_LABEL, cycle).list();
        return list.getItems().stream().map(j -> (JsonNode) Serialization.jsonMapper().valueToTree(j)).toList();
    }

    static boolean validated(JsonNode job) {
        for (JsonNode condition : job.path("status").path("conditions")) {
            if ("Validated".equals(condition.path("type").asText())) {
                return "True".equals(condition.path("status").asText());
            }
        }
        return false;
    }

    static Set<String> uids(List<JsonNode> jobs) {
        return jobs.stream().map(j -> j.at("/metadata/uid").asText()).collect(Collectors.toSet());
    }

    /** How many of the jobs (by UID) own all {@link #CHILDREN_PER_JOB} children. */
    static long completeJobs(KubernetesClient client, String namespace, Set<String> jobUids) {
        Map<String, Integer> children = new HashMap<>();
        for (HasMetadata child : children(client, namespace)) {
            for (OwnerReference owner : child.getMetadata().getOwnerReferences()) {
                if (jobUids.contains(owner.getUid())) {
                    children.merge(owner.getUid(), 1, Integer::sum);
                }
            }
        }
        return children.values().stream().filter(c -> c == CHILDREN_PER_JOB).count();
    }

    /** Every object the operator made in the namespace (its informers' label). */
    static List<HasMetadata> children(KubernetesClient client, String namespace) {
        List<HasMetadata> all = new ArrayList<>();
        for (Class<? extends HasMetadata> type : CHILD_TYPES) {
            all.addAll(client.resources(type).inNamespace(namespace)
                    .withLabel(MANAGED_SELECTOR_KEY, MANAGED_SELECTOR_VALUE).list().getItems());
        }
        return all;
    }

    private static String describe(HasMetadata child) {
        return child.getKind() + " " + child.getMetadata().getName();
    }

    static void deleteAndAwaitGone(KubernetesClient client, TestNamespace ns) {
        ns.delete();
        client.namespaces().withName(ns.name()).waitUntilCondition(n -> n == null, 10, TimeUnit.MINUTES);
    }

    // ---- the API server's numbers ----

    /** A FlowSchema matching only the operator's ServiceAccount, at the priority level it would get anyway. */
    static void countOperatorRequests(KubernetesClient client) {
        client.resource(Serialization.unmarshal("""
                apiVersion: flowcontrol.apiserver.k8s.io/v1
                kind: FlowSchema
                metadata: {name: %s}
                spec:
                  matchingPrecedence: 500
                  priorityLevelConfiguration: {name: workload-low}
                  distinguisherMethod: {type: ByUser}
                  rules:
                    - subjects: [{kind: ServiceAccount, serviceAccount: {name: %s, namespace: %s}}]
                      resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true}]
                      nonResourceRules: [{verbs: ["*"], nonResourceURLs: ["*"]}]
                """.formatted(FLOW_SCHEMA, E2eCluster.OPERATOR, E2eCluster.OPERATOR_NAMESPACE), GenericKubernetesResource.class))
                .fieldManager("finetune-e2e").forceConflicts().serverSideApply();
    }

    static PrometheusText apiServerMetrics(KubernetesClient client) {
        return PrometheusText.parse(client.raw("/metrics"));
    }

    static double operatorRequests(PrometheusText metrics) {
        return metrics.sum("apiserver_flowcontrol_dispatched_requests_total", l -> FLOW_SCHEMA.equals(l.get("flow_schema")));
    }

    static double rejected(PrometheusText metrics) {
        return metrics.sum("apiserver_flowcontrol_rejected_requests_total", l -> FLOW_SCHEMA.equals(l.get("flow_schema")));
    }

    /**
     * p50 and p99 of apiserver_request_duration_seconds between two scrapes (all clients; WATCH and CONNECT are
     * long-running, left out): for the finetunejobs resource (and its status) and for every resource.
     */
    static Map<String, Object> latencies(PrometheusText before, PrometheusText after) {
        String metric = "apiserver_request_duration_seconds";
        Predicate<Map<String, String>> shortRequests = l -> !Set.of("WATCH", "WATCHLIST", "CONNECT").contains(l.get("verb"));
        Predicate<Map<String, String>> fineTuneJobs = shortRequests.and(l -> "finetunejobs".equals(l.get("resource")));
        var jobs = PrometheusText.delta(after.buckets(metric, fineTuneJobs), before.buckets(metric, fineTuneJobs));
        var all = PrometheusText.delta(after.buckets(metric, shortRequests), before.buckets(metric, shortRequests));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("apiFineTuneJobsRequests", jobs.isEmpty() ? 0 : jobs.lastEntry().getValue().longValue());
        out.put("apiFineTuneJobsP50Ms", round(1000 * PrometheusText.quantile(0.5, jobs)));
        out.put("apiFineTuneJobsP99Ms", round(1000 * PrometheusText.quantile(0.99, jobs)));
        out.put("apiAllRequests", all.isEmpty() ? 0 : all.lastEntry().getValue().longValue());
        out.put("apiAllP50Ms", round(1000 * PrometheusText.quantile(0.5, all)));
        out.put("apiAllP99Ms", round(1000 * PrometheusText.quantile(0.99, all)));
        return out;
    }

    /**
     * Writes the API server accepted between two scrapes (apiserver_request_total, every client: the operator's
     * children and the controllers' reactions to them), by resource and subresource, most first.
     */
    static Map<String, Long> writesByResource(PrometheusText before, PrometheusText after) {
        Set<String> writes = Set.of("POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY");
        Map<String, Long> counts = new HashMap<>();
        for (String resource : after.labelValues("apiserver_request_total", "resource")) {
            for (String subresource : after.labelValues("apiserver_request_total", "subresource")) {
                Predicate<Map<String, String>> match = l -> writes.contains(l.get("verb"))
                        && resource.equals(l.get("resource")) && subresource.equals(l.getOrDefault("subresource", ""));
                long delta = Math.round(after.sum("apiserver_request_total", match) - before.sum("apiserver_request_total", match));
                if (delta > 0) {
                    counts.put(subresource.isEmpty() ? resource : resource + "/" + subresource, delta);
                }
            }
        }
        Map<String, Long> sorted = new LinkedHashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    // ---- small things ----

    static ScheduledExecutorService sampleHeapEvery(Duration period, OperatorProbe operator, AtomicLong peak) {
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                peak.accumulateAndGet(operator.heapUsedBytes(), Math::max);
            } catch (RuntimeException e) {
                System.out.println("[load] heap sample failed: " + e.getMessage());
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        return sampler;
    }

    static String goal(double seconds, double heapPeakMiB, double heapRetainedMiB, int n) {
        if (n != 1000) {
            return "not judged (the goal is for 1000 jobs)";
        }
        String time = seconds < GOAL_SECONDS ? "met (" + round(seconds) + " s < 60 s)"
                : "missed by " + round(seconds - GOAL_SECONDS) + " s (" + round(seconds) + " s)";
        return "time " + time + "; heap peak " + heapPeakMiB + " MiB (" + (heapPeakMiB < GOAL_HEAP_MIB ? "under" : "over")
                + " 256), retained after GC " + heapRetainedMiB + " MiB (" + (heapRetainedMiB < GOAL_HEAP_MIB ? "under" : "over")
                + " 256)";
    }

    /** The operator's JVM limited to this heap (-Xmx through JAVA_TOOL_OPTIONS); waits for the new pod. */
    static void limitOperatorHeap(E2eCluster cluster, String maxHeap) {
        cluster.client().apps().deployments().inNamespace(E2eCluster.OPERATOR_NAMESPACE).withName(E2eCluster.OPERATOR)
                .edit(d -> {
                    var container = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
                    container.getEnv().removeIf(e -> e.getName().equals("JAVA_TOOL_OPTIONS"));
                    container.getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("JAVA_TOOL_OPTIONS", "-Xmx" + maxHeap, null));
                    return d;
                });
        cluster.awaitOperatorRollout(Duration.ofMinutes(3));
    }

    /** Restarts of the operator's container so far (an OutOfMemoryError exits the JVM: -XX:+ExitOnOutOfMemoryError). */
    static int operatorRestarts(E2eCluster cluster) {
        return cluster.operatorPods().stream().flatMap(p -> p.getStatus().getContainerStatuses().stream())
                .mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
    }

    /** The host's /proc/loadavg (1, 5, 15 minutes): the machine the Kind node shares. */
    static String loadAverage() throws IOException {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return fields[0] + " " + fields[1] + " " + fields[2];
    }

    static void report(String name, Map<String, Object> result) throws IOException {
        String json = Serialization.asJson(result);
        System.out.println("LOAD-BENCH " + name + " " + json);
        Files.createDirectories(OUT);
        Files.writeString(OUT.resolve(name + ".json"), json + "\n");
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static double mib(long bytes) {
        return round(bytes / 1048576.0);
    }

    static double round(double value) {
        return Double.isNaN(value) ? value : Math.round(value * 10) / 10.0;
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
