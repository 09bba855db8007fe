package dev.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A namespace as strict as a careful cluster makes it (Pod Security "restricted" enforced, a default-deny
 * NetworkPolicy), and what a scenario does in it: claims, manifests, FineTuneJobs, Events, files in pods.
 */
final class TestNamespace {

    static final String API_VERSION = "finetune.dev/v1alpha1";
    static final String KIND = "FineTuneJob";
    /** The securityContexts Pod Security "restricted" admits, for the pods a scenario runs itself. */
    static final String RESTRICTED_POD = "{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: {type: RuntimeDefault}}";
    /**
     * The CPU of one training job's worker: a 2-core Kind node has about 900m left beside the control plane,
     * CoreDNS and the operator, and SuspendResumeE2E trains two jobs side by side.
     */
    static final String JOB_CPU = "400m";
    static final String RESTRICTED_CONTAINER = "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

    private final KubernetesClient client;
    private final String name;

    private TestNamespace(KubernetesClient client, String name) {
        this.client = client;
        this.name = name;
    }

    /** A fresh namespace: an earlier run's namespace of the same name is deleted first. */
    static TestNamespace create(KubernetesClient client, String name) {
        var existing = client.namespaces().withName(name);
        if (existing.get() != null) {
            existing.withTimeout(3, TimeUnit.MINUTES).delete();
            existing.waitUntilCondition(ns -> ns == null, 3, TimeUnit.MINUTES);
        }
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
        client.resource(new NetworkPolicyBuilder().withNewMetadata().withName("default-deny").withNamespace(name)
                .endMetadata().withNewSpec().withNewPodSelector().endPodSelector()
                .withPolicyTypes("Ingress", "Egress").endSpec().build()).create();
        return new TestNamespace(client, name);
    }

    /** A namespace that exists already and is not the scenario's own (the operator's), for exec and logs only. */
    static TestNamespace existing(KubernetesClient client, String name) {
        return new TestNamespace(client, name);
    }

    String name() {
        return name;
    }

    /**
     * ReadWriteOnce claims of 1Gi from the default StorageClass: stock Kind's local-path provisioner binds
     * only ReadWriteOnce, and on a one-node cluster every pod mounts such a claim.
     */
    void claims(String... names) {
        claimsWithAccessMode("ReadWriteOnce", names);
    }

    /**
     * Claims of 1Gi with the access mode given: a gang of two or more workers needs ReadWriteMany (the operator
     * refuses a shared claim that is not, Validated=False PvcAccessMode).
     */
    void claimsWithAccessMode(String accessMode, String... names) {
        for (String claim : names) {
            client.resource(new PersistentVolumeClaimBuilder().withNewMetadata().withName(claim).withNamespace(name)
                    .endMetadata().withNewSpec().withAccessModes(accessMode).withNewResources()
                    .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        }
    }

    /**
     * A one-epoch CPU job on the claims models, data and outputs, small enough for the trainer stand-in
     * (e2e/images/smoke); {@code image} is its spec.image, or null for the operator's default trainer image.
     */
    void applyStandInJob(String name, String outputPath, String image) {
        apply("""
                apiVersion: finetune.dev/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s}
                spec:
                  model: {pvc: {claimName: models, path: tiny}}
                  dataset: {pvc: {claimName: data, path: train.jsonl}}
                  training: {epochs: 1, precision: fp32}
                  resources: {gpus: 0, workers: 1, cpu: 100m, memory: 128Mi}
                  output: {pvc: {claimName: outputs, path: %s}}
                """.formatted(name, outputPath) + (image == null ? "" : "  image: " + image + "\n"));
    }

    /** Creates every object of a YAML manifest (several documents allowed) in this namespace. */
    void apply(String yaml) {
        List<HasMetadata> objects = client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        for (HasMetadata object : objects) {
            object.getMetadata().setNamespace(name);
            client.resource(object).fieldManager("finetune-e2e").forceConflicts().serverSideApply();
        }
    }

    /**
     * Fills the claims "models" and "data" with the trainer image's own quickstart-assets (the quickstart model and
     * dataset), then runs the extra shell lines (e.g. a broken copy of the dataset); waits until the Job completes.
     */
    void fillAssets(String trainerImage, String extraShell) {
        String script = "finetune() { java -jar /opt/finetune/finetune-trainer.jar \"$@\"; }\n"
                + "finetune quickstart-assets --models /mnt/models --data /mnt/data\n" + extraShell;
        apply("""
                apiVersion: batch/v1
                kind: Job
                metadata: {name: assets}
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      securityContext: %s
                      containers:
                        - name: assets
                          image: %s
                          imagePullPolicy: IfNotPresent
                          command: [bash, -ec, %s]
                          resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {cpu: "1", memory: 1Gi}}
                          securityContext: %s
                          volumeMounts:
                            - {name: models, mountPath: /mnt/models}
                            - {name: data, mountPath: /mnt/data}
                      volumes:
                        - {name: models, persistentVolumeClaim: {claimName: models}}
                        - {name: data, persistentVolumeClaim: {claimName: data}}
                """.formatted(RESTRICTED_POD, trainerImage, Serialization.asJson(script), RESTRICTED_CONTAINER));
        client.batch().v1().jobs().inNamespace(name).withName("assets").waitUntilCondition(
                j -> {
                    if (j != null && j.getStatus() != null && j.getStatus().getFailed() != null && j.getStatus().getFailed() > 0) {
                        throw new IllegalStateException("the assets Job failed: " + diagnosticsOfPods("job-name", "assets"));
                    }
                    return j != null && j.getStatus() != null && Integer.valueOf(1).equals(j.getStatus().getSucceeded());
                }, 5, TimeUnit.MINUTES);
    }

    /**
     * Starts a restricted pod {@code pod} that sleeps with each of {@code claims} mounted read-only at
     * /mnt/CLAIM, for reading what a job left on its volumes ({@link #readText}, {@link #exec}); waits until it runs.
     */
    void startVolumeReader(String pod, String image, String... claims) {
        StringBuilder mounts = new StringBuilder();
        StringBuilder volumes = new StringBuilder();
        for (String claim : claims) {
            mounts.append("        - {name: %s, mountPath: /mnt/%s, readOnly: true}\n".formatted(claim, claim));
            volumes.append("    - {name: %s, persistentVolumeClaim: {claimName: %s, readOnly: true}}\n".formatted(claim, claim));
        }
        apply("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s}
                spec:
                  restartPolicy: Never
                  securityContext: %s
                  containers:
                    - name: reader
                      image: %s
                      imagePullPolicy: IfNotPresent
                      command: [sleep, "600"]
                      resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 100m, memory: 64Mi}}
                      securityContext: %s
                      volumeMounts:
                """.formatted(pod, RESTRICTED_POD, image, RESTRICTED_CONTAINER) + mounts + "  volumes:\n" + volumes);
        awaitPodReady(pod, Duration.ofMinutes(2));
    }

    private String diagnosticsOfPods(String labelKey, String labelValue) {
        StringBuilder out = new StringBuilder();
        for (Pod pod : pods(labelKey, labelValue)) {
            out.append("\n----- ").append(pod.getMetadata().getName()).append('\n');
            try {
                out.append(log(pod.getMetadata().getName()));
            } catch (RuntimeException e) {
                out.append("(no log: ").append(e.getMessage()).append(')');
            }
        }
        return out.toString();
    }

    /**
     * The operator installed and a fresh namespace holding the quickstart's model and data on the claims
     * {@code models}, {@code data} and {@code outputs}: what a training scenario starts from.
     */
    static TestNamespace withQuickstartAssets(E2eCluster cluster, String name) {
        return withQuickstartAssets(cluster, name, "ReadWriteOnce");
    }

    /** The same, with claims of the access mode given (ReadWriteMany for a gang of several workers). */
    static TestNamespace withQuickstartAssets(E2eCluster cluster, String name, String accessMode) {
        cluster.installOperator();
        TestNamespace ns = create(cluster.client(), name);
        ns.claimsWithAccessMode(accessMode, "models", "data", "outputs");
        ns.fillAssets(cluster.settings().trainerImage(), "");
        return ns;
    }

    /** Quickstart jobs sized so that two of them train side by side on a 2-core node ({@link #JOB_CPU}). */
    void createSideBySideQuickstartJobs(java.nio.file.Path repo, String... jobs) {
        for (String job : jobs) {
            createQuickstartJob(repo, job,
                    j -> ((ObjectNode) j.at("/spec/resources")).put("cpu", JOB_CPU).put("memory", "1536Mi"));
        }
    }

    /** The job's per-epoch eval losses from status.history, as "epoch N: loss" lines. */
    List<String> evalLosses(String job) {
        List<String> rows = new java.util.ArrayList<>();
        for (JsonNode r : job(job).path("status").path("history")) {
            if (r.hasNonNull("evalLoss")) {
                rows.add("epoch " + r.path("epoch").asInt() + ": " + r.path("evalLoss").asDouble());
            }
        }
        return rows;
    }

    /** examples/quickstart/finetunejob.yaml, renamed, in this namespace, with the changes applied; then created. */
    void createQuickstartJob(java.nio.file.Path repo, String job, java.util.function.Consumer<ObjectNode> changes) {
        try {
            ObjectNode manifest = (ObjectNode) Serialization.yamlMapper().readTree(
                    java.nio.file.Files.readString(repo.resolve("examples/quickstart/finetunejob.yaml")));
            ((ObjectNode) manifest.path("metadata")).put("name", job).put("namespace", name);
            ((ObjectNode) manifest.at("/spec/output/pvc")).put("path", "runs/" + job);
            changes.accept(manifest);
            client.resource(Serialization.jsonMapper().treeToValue(manifest, GenericKubernetesResource.class))
                    .fieldManager("finetune-e2e").serverSideApply();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Resource<GenericKubernetesResource> jobResource(String job) {
        return client.genericKubernetesResources(API_VERSION, KIND).inNamespace(name).withName(job);
    }

    /** The FineTuneJob as JSON, as {@code kubectl get -o json} shows it; null when absent. */
    JsonNode job(String job) {
        GenericKubernetesResource resource = jobResource(job).get();
        return resource == null ? null : Serialization.jsonMapper().valueToTree(resource);
    }

    /** One field of the FineTuneJob by JSON pointer ("/status/phase"); "" when absent. */
    String field(String job, String pointer) {
        JsonNode node = job(job);
        return node == null ? "" : node.at(pointer).asText("");
    }

    /** Until the field holds the value; on timeout the message says what it held. */
    void awaitField(String job, String pointer, String expected, Duration limit) {
        await(job + " " + pointer + " to be '" + expected + "'").atMost(limit).pollInterval(Duration.ofSeconds(1))
                .until(() -> field(job, pointer), expected::equals);
    }

    /** Until the job is Succeeded or Failed; returns that phase. */
    String awaitTerminal(String job, Duration limit) {
        return await(job + " to end Succeeded or Failed").atMost(limit).pollInterval(Duration.ofSeconds(2))
                .until(() -> field(job, "/status/phase"), phase -> phase.equals("Succeeded") || phase.equals("Failed"));
    }

    /** The condition's "STATUS REASON", as {@code kubectl get -o jsonpath} reads it. */
    String condition(String job, String type) {
        for (JsonNode condition : job(job).path("status").path("conditions")) {
            if (type.equals(condition.path("type").asText())) {
                return condition.path("status").asText() + " " + condition.path("reason").asText();
            }
        }
        return "(no " + type + " condition)";
    }

    /** The Events on this job (by UID: an earlier job of the same name may have left Events behind), oldest first. */
    List<Event> events(String job) {
        String uid = job(job).at("/metadata/uid").asText();
        return client.v1().events().inNamespace(name).withField("involvedObject.uid", uid).list().getItems().stream()
                .sorted(Comparator.comparing(e -> String.valueOf(e.getLastTimestamp())))
                .toList();
    }

    List<Pod> pods(String labelKey, String labelValue) {
        return client.pods().inNamespace(name).withLabel(labelKey, labelValue).list().getItems();
    }

    /** Worker pods of the job's attempt. */
    List<Pod> workers(String job, int attempt) {
        return client.pods().inNamespace(name).withLabel("finetune.dev/job", job)
                .withLabel("finetune.dev/attempt", String.valueOf(attempt)).list().getItems();
    }

    String log(String pod) {
        return client.pods().inNamespace(name).withName(pod).getLog();
    }

    /**
     * A file inside a running pod's container, read through the API server: {@code base64} in the pod, decoded here
     * (Fabric8's file().read() stream trips an internal assertion on binary files under -ea).
     */
    byte[] readFile(String pod, String path) {
        return java.util.Base64.getMimeDecoder().decode(exec(pod, "base64", path).strip());
    }

    String readText(String pod, String path) {
        return new String(readFile(pod, path), StandardCharsets.UTF_8);
    }

    /** Runs a command in a pod's container and returns its exit code (stdout and stderr are dropped). */
    int execStatus(String pod, String... command) {
        try (var watch = client.pods().inNamespace(name).withName(pod).writingOutput(java.io.OutputStream.nullOutputStream())
                .writingError(java.io.OutputStream.nullOutputStream()).exec(command)) {
            return watch.exitCode().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(String.join(" ", command) + " in pod " + pod + ": " + e, e);
        }
    }

    /** Runs a command in a pod's container; its stdout, or an error with its stderr and exit code. */
    String exec(String pod, String... command) {
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        try (var watch = client.pods().inNamespace(name).withName(pod).writingOutput(out).writingError(err)
                .exec(command)) {
            int code = watch.exitCode().get(60, TimeUnit.SECONDS);
            if (code != 0) {
                throw new IllegalStateException(String.join(" ", command) + " in pod " + pod + " exited with " + code
                        + ": " + err.toString(StandardCharsets.UTF_8));
            }
            return out.toString(StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(String.join(" ", command) + " in pod " + pod + ": " + e, e);
        }
    }

    /**
     * Starts a pod that only sleeps, with these labels, as Pod Security "restricted" admits it, and waits until it
     * is ready: a vantage point for NetworkPolicy probes ({@link #reachesTcp}, {@link #resolves}). The image needs
     * bash, timeout and getent (the trainer image has them).
     */
    void startProbePod(String pod, String image, java.util.Map<String, String> labels) {
        apply("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, labels: %s}
                spec:
                  securityContext: %s
                  terminationGracePeriodSeconds: 1
                  containers:
                    - name: probe
                      image: %s
                      imagePullPolicy: IfNotPresent
                      command: [sleep, "3600"]
                      resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 100m, memory: 64Mi}}
                      securityContext: %s
                """.formatted(pod, Serialization.asJson(labels), RESTRICTED_POD, image, RESTRICTED_CONTAINER));
        awaitPodReady(pod, Duration.ofMinutes(2));
    }

    /** Whether a TCP connection from the pod to host:port opens within 3 s. */
    boolean reachesTcp(String fromPod, String host, int port) {
        return execStatus(fromPod, "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + port) == 0;
    }

    /** Whether the pod resolves the name within 5 s. */
    boolean resolves(String fromPod, String name) {
        return execStatus(fromPod, "timeout", "5", "getent", "hosts", name) == 0;
    }

    void awaitPodReady(String pod, Duration limit) {
        client.pods().inNamespace(name).withName(pod).waitUntilReady(limit.toSeconds(), TimeUnit.SECONDS);
    }

    /** What a person reads after a failure: jobs' status, Events, pod logs, the operator's log. */
    String diagnostics(E2eCluster cluster) {
        StringBuilder out = new StringBuilder("===== diagnostics (namespace " + name + ")\n");
        try {
            for (GenericKubernetesResource job : client.genericKubernetesResources(API_VERSION, KIND).inNamespace(name)
                    .list().getItems()) {
                out.append("----- FineTuneJob ").append(job.getMetadata().getName()).append(" status\n")
                        .append(Serialization.asYaml(job.getAdditionalProperties().get("status"))).append('\n');
            }
            out.append("----- events\n");
            for (Event e : client.v1().events().inNamespace(name).list().getItems()) {
                out.append(e.getInvolvedObject().getName()).append('\t').append(e.getReason()).append('\t')
                        .append(e.getMessage()).append('\n');
            }
            for (Pod pod : client.pods().inNamespace(name).list().getItems()) {
                out.append("----- pod ").append(pod.getMetadata().getName()).append(" (")
                        .append(pod.getStatus().getPhase()).append("), last 40 lines\n");
                try {
                    out.append(client.pods().inNamespace(name).withName(pod.getMetadata().getName())
                            .tailingLines(40).getLog()).append('\n');
                } catch (RuntimeException e) {
                    out.append("(no log: ").append(e.getMessage()).append(")\n");
                }
            }
            out.append(cluster.operatorLogs(80));
        } catch (RuntimeException e) {
            out.append("(diagnostics incomplete: ").append(e).append(")\n");
        }
        return out.toString();
    }

    void delete() {
        client.namespaces().withName(name).delete();
    }
}
