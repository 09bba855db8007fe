package dev.finetune.operator.bench;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.Labels;
import dev.finetune.operator.reconcile.SimulatedCluster;
import dev.finetune.operator.status.ConditionType;
import dev.finetune.operator.status.Conditions;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Scale benchmark, not a test (run with {@code mvn -pl operator verify -Pbench}): N FineTuneJobs (default 500,
 * -Dbench.jobs=N) created at once against the Fabric8 mock API server; measures the time until every job has
 * all its children and Validated=True, API requests, and the JVM's heap and RSS (operator and mock server share
 * the JVM). Prints one line of JSON and writes target/bench/scale.json.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(ScaleBench.Profile.class)
class ScaleBench {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.operator-sdk.concurrent-reconciliation-threads", "16",
                    "quarkus.log.category.\"dev.finetune\".level", "INFO");
        }
    }

    @Inject
    KubernetesClient client;

    @KubernetesTestServer
    KubernetesServer server;

    @Test
    void manyJobsAtOnce() throws Exception {
        int n = Integer.getInteger("bench.jobs", 500);
        String ns = "bench";
        SimulatedCluster.installCrd(client);
        SimulatedCluster cluster = new SimulatedCluster(client);
        cluster.boundClaims(ns, "models", "data", "outputs");
        System.gc();
        long heapBefore = usedHeap();
        int requestsBefore = server.getKubernetesMockServer().getRequestCount();

        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> created = IntStream.range(0, n)
                .mapToObj(i -> pool.submit(() -> cluster.create(Fixtures.job(ns, "job-" + i))))
                .<Future<?>>map(f -> f)
                .toList();
        for (Future<?> f : created) {
            f.get();
        }
        long createdAt = System.nanoTime();
        pool.shutdown();

        long validatedAt = 0;
        long peakHeap = 0;
        while (true) {
            peakHeap = Math.max(peakHeap, usedHeap());
            List<FineTuneJob> jobs = client.resources(FineTuneJob.class).inNamespace(ns).list().getItems();
            long validated = jobs.stream().filter(j -> j.getStatus() != null
                    && Conditions.isTrue(j.getStatus().getConditions(), ConditionType.VALIDATED)).count();
            if (validated == n && validatedAt == 0) {
                validatedAt = System.nanoTime();
            }
            int workerJobs = client.batch().v1().jobs().inNamespace(ns).withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                    .list().getItems().size();
            int configMaps = client.configMaps().inNamespace(ns).withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).list().getItems().size();
            int policies = client.network().v1().networkPolicies().inNamespace(ns).list().getItems().size();
            int bindings = client.rbac().roleBindings().inNamespace(ns).list().getItems().size();
            if (validated == n && workerJobs == n && configMaps == 2 * n && policies == n && bindings == n) {
                break;
            }
            if (System.nanoTime() - start > 600_000_000_000L) {
                throw new AssertionError("not converged after 10 minutes: validated " + validated + ", worker Jobs " + workerJobs);
            }
            Thread.sleep(250);
        }
        long doneAt = System.nanoTime();
        int requests = server.getKubernetesMockServer().getRequestCount() - requestsBefore;
        System.gc();
        long heapAfterGc = usedHeap();
        long rss = rssKiB();

        // Peer, same run: a plain client writing the same objects (the rendered children of N jobs, one status
        // write each) with the same 16 threads and no operator logic: what the API server alone costs.
        double peerSeconds = peer(n);

        String json = String.format(java.util.Locale.ROOT,
                "{\"jobs\": %d, \"createSeconds\": %.2f, \"allValidatedSeconds\": %.2f, \"allChildrenSeconds\": %.2f, "
                        + "\"apiRequests\": %d, \"heapBeforeMiB\": %.1f, \"heapPeakMiB\": %.1f, \"heapAfterGcMiB\": %.1f, "
                        + "\"rssMiB\": %.1f, \"cpus\": %d, \"reconcileThreads\": 16, \"peerPlainWritesSeconds\": %.2f, "
                        + "\"ratioOperatorToPeer\": %.2f}",
                n, (createdAt - start) / 1e9, (validatedAt - start) / 1e9, (doneAt - start) / 1e9, requests,
                heapBefore / 1048576.0, peakHeap / 1048576.0, heapAfterGc / 1048576.0, rss / 1024.0,
                Runtime.getRuntime().availableProcessors(), peerSeconds, ((doneAt - start) / 1e9) / peerSeconds);
        System.out.println("SCALE-BENCH " + json);
        Path out = Path.of("target/bench/scale.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, json + "\n");
    }

    /** Writes what the operator writes for n jobs (8 children and one update each), with no operator logic. */
    double peer(int n) throws Exception {
        String ns = "peer";
        dev.finetune.operator.children.RenderSettings settings = dev.finetune.operator.Fixtures.renderSettings("t");
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> done = IntStream.range(0, n).mapToObj(i -> pool.submit(() -> {
            FineTuneJob job = Fixtures.job(ns, "peer-" + i);
            job.getMetadata().setUid("peer-uid-" + i);
            // the 8 children, then one update standing in for the status write (no FineTuneJob: the operator would act on it)
            client.resource(dev.finetune.operator.children.TrainerConfigMapRenderer.desired(job, 1, null)).create();
            client.resource(dev.finetune.operator.children.ProgressConfigMapRenderer.desired(job)).create();
            client.resource(dev.finetune.operator.children.RendezvousServiceRenderer.desired(job)).create();
            client.resource(dev.finetune.operator.children.ProgressIdentityRenderer.serviceAccount(job)).create();
            client.resource(dev.finetune.operator.children.ProgressIdentityRenderer.role(job)).create();
            client.resource(dev.finetune.operator.children.ProgressIdentityRenderer.roleBinding(job)).create();
            client.resource(dev.finetune.operator.children.NetworkPolicyRenderer.desired(job, settings)).create();
            client.resource(dev.finetune.operator.children.WorkerJobRenderer.desired(job,
                    new dev.finetune.operator.lifecycle.Attempt(1, 0, null, java.time.Instant.now(), "Started"),
                    settings)).create();
            var progress = client.configMaps().inNamespace(ns).withName(dev.finetune.operator.children.Names.progressConfigMap(job.getMetadata().getName()));
            progress.edit(cm -> {
                cm.setData(Map.of("status", "written"));
                return cm;
            });
            return null;
        })).<Future<?>>map(f -> f).toList();
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        return (System.nanoTime() - start) / 1e9;
    }

    static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long rssKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
