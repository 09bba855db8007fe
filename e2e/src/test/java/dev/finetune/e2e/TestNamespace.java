package dev.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.io.InputStream;
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

    String name() {
        return name;
    }

    /**
     * ReadWriteOnce claims of 1Gi from the default StorageClass: stock Kind's local-path provisioner binds
     * only ReadWriteOnce, and on a one-node cluster every pod mounts such a claim.
     */
    void claims(String... names) {
        for (String claim : names) {
            client.resource(new PersistentVolumeClaimBuilder().withNewMetadata().withName(claim).withNamespace(name)
                    .endMetadata().withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                    .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        }
    }

    /** Creates every object of a YAML manifest (several documents allowed) in this namespace. */
    void apply(String yaml) {
        List<HasMetadata> objects = client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
        for (HasMetadata object : objects) {
            object.getMetadata().setNamespace(name);
            client.resource(object).fieldManager("finetune-e2e").forceConflicts().serverSideApply();
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

    /** A file inside a running pod's container, read through the API server (exec). */
    byte[] readFile(String pod, String path) {
        try (InputStream in = client.pods().inNamespace(name).withName(pod).file(path).read()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " in pod " + pod + ": " + e.getMessage(), e);
        }
    }

    String readText(String pod, String path) {
        return new String(readFile(pod, path), StandardCharsets.UTF_8);
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
