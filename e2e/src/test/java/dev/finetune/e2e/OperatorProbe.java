package dev.finetune.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * What the load benchmark reads from the running operator: its Prometheus metrics (through the API server's pod
 * proxy), its heap in use, its retained heap after a full collection ({@link HeapAfterGc}, run in its container)
 * and its resident memory from /proc (the JVM is PID 1 of the container).
 */
final class OperatorProbe {

    /** Where {@link HeapAfterGc}'s class file goes in the operator's container: /tmp is its only writable directory. */
    private static final String CLASS_DIR = "/tmp/heap-after-gc";
    private static final String CLASS_FILE = HeapAfterGc.class.getName().replace('.', '/') + ".class";

    private final E2eCluster cluster;
    private final TestNamespace namespace;

    OperatorProbe(E2eCluster cluster) {
        this.cluster = cluster;
        this.namespace = TestNamespace.existing(cluster.client(), E2eCluster.OPERATOR_NAMESPACE);
    }

    /** The operator's running pod (one replica). */
    String pod() {
        List<Pod> running = cluster.operatorPods().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null && "Running".equals(p.getStatus().getPhase()))
                .toList();
        if (running.size() != 1) {
            throw new IllegalStateException("expected one running operator pod in " + E2eCluster.OPERATOR_NAMESPACE
                    + ", found " + running.stream().map(p -> p.getMetadata().getName()).toList());
        }
        return running.getFirst().getMetadata().getName();
    }

    /** /q/metrics of the operator, through the API server's proxy to its pod's port 8080. */
    PrometheusText metrics() {
        return PrometheusText.parse(cluster.client().raw("/api/v1/namespaces/" + E2eCluster.OPERATOR_NAMESPACE
                + "/pods/" + pod() + ":8080/proxy/q/metrics"));
    }

    /** The heap in use now, all heap pools (jvm_memory_used_bytes{area="heap"}), garbage included. */
    long heapUsedBytes() {
        return (long) metrics().sum("jvm_memory_used_bytes", labels -> "heap".equals(labels.get("area")));
    }

    /** The heap still in use after a full collection that {@link HeapAfterGc} runs inside the operator's JVM. */
    long heapAfterFullGcBytes() {
        String pod = pod();
        String file = CLASS_DIR + "/" + CLASS_FILE;
        namespace.exec(pod, "sh", "-c", "mkdir -p \"$(dirname " + file + ")\" && echo " + classFileBase64()
                + " | base64 -d > " + file);
        String out = namespace.exec(pod, "java", "-Xmx32m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED", "-cp", CLASS_DIR,
                HeapAfterGc.class.getName(), "1");
        return Long.parseLong(out.strip());
    }

    /** VmRSS and VmHWM (the peak) of the operator's JVM, in bytes, from /proc/1/status in its container. */
    Memory memory() {
        String status = namespace.exec(pod(), "cat", "/proc/1/status");
        return new Memory(kibField(status, "VmRSS") * 1024, kibField(status, "VmHWM") * 1024);
    }

    record Memory(long rssBytes, long peakRssBytes) {
    }

    /**
     * CPU time of the operator's container from its cgroup: used, and the time its 1-CPU limit held it back
     * (cgroup v2 cpu.stat; on a cgroup v1 node cpuacct.usage and cpu/cpu.stat). Null when neither is readable.
     */
    Cpu cpu() {
        String pod = pod();
        try {
            Map<String, Long> v2 = fields(namespace.exec(pod, "cat", "/sys/fs/cgroup/cpu.stat"));
            if (v2.containsKey("usage_usec")) {
                return new Cpu(v2.get("usage_usec") / 1e6, v2.getOrDefault("throttled_usec", 0L) / 1e6);
            }
        } catch (IllegalStateException e) {
            // not cgroup v2: try v1 below
        }
        try {
            long usageNanos = Long.parseLong(namespace.exec(pod, "cat", "/sys/fs/cgroup/cpuacct/cpuacct.usage").strip());
            Map<String, Long> v1 = fields(namespace.exec(pod, "cat", "/sys/fs/cgroup/cpu/cpu.stat"));
            return new Cpu(usageNanos / 1e9, v1.getOrDefault("throttled_time", 0L) / 1e9);
        } catch (IllegalStateException | NumberFormatException e) {
            return null;
        }
    }

    private static Map<String, Long> fields(String stat) {
        Map<String, Long> fields = new java.util.HashMap<>();
        for (String line : stat.split("\n")) {
            String[] kv = line.strip().split("\\s+");
            if (kv.length == 2 && kv[1].matches("[0-9]+")) {
                fields.put(kv[0], Long.parseLong(kv[1]));
            }
        }
        return fields;
    }

    record Cpu(double usedSeconds, double throttledSeconds) {
    }

    private static long kibField(String procStatus, String field) {
        for (String line : procStatus.split("\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/1/status:\n" + procStatus);
    }

    private static String classFileBase64() {
        try (InputStream in = HeapAfterGc.class.getClassLoader().getResourceAsStream(CLASS_FILE)) {
            if (in == null) {
                throw new IllegalStateException(CLASS_FILE + " is not on the test classpath");
            }
            return Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
