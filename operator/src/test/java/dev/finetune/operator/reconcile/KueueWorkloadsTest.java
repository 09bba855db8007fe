package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.operator.lifecycle.KueueWorkload;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KueueWorkloadsTest {

    static GenericKubernetesResource workload(List<Map<String, String>> conditions) {
        return new GenericKubernetesResourceBuilder().withApiVersion("kueue.x-k8s.io/v1beta2").withKind("Workload")
                .withNewMetadata().withName("job-run-attempt-1-3f2a1").endMetadata()
                .addToAdditionalProperties("status", Map.of("conditions", conditions)).build();
    }

    @Test
    void aPendingWorkloadGivesKueuesReason() {
        KueueWorkload w = KueueWorkloads.read(workload(List.of(Map.of("type", "QuotaReserved", "status", "False",
                "reason", "Pending", "message", "couldn't assign flavors to pod set main: insufficient unused quota for cpu"))));
        assertThat(w.name()).isEqualTo("job-run-attempt-1-3f2a1");
        assertThat(w.pendingMessage()).isEqualTo("couldn't assign flavors to pod set main: insufficient unused quota for cpu");
        assertThat(w.evicted()).isFalse();
    }

    @Test
    void anEvictedWorkloadIsPreemptedUntilReadmitted() {
        KueueWorkload evicted = KueueWorkloads.read(workload(List.of(
                Map.of("type", "Evicted", "status", "True", "reason", "Preempted", "message", "Preempted to accommodate a workload"),
                Map.of("type", "QuotaReserved", "status", "False", "reason", "Preempted", "message", "waiting"))));
        assertThat(evicted.evicted()).isTrue();
        assertThat(evicted.evictedMessage()).isEqualTo("Preempted to accommodate a workload");

        // admitted again: Kueue sets Evicted to False ("Previously: ...") and QuotaReserved to True
        KueueWorkload readmitted = KueueWorkloads.read(workload(List.of(
                Map.of("type", "Evicted", "status", "False", "reason", "QuotaReserved", "message", "Previously: Preempted"),
                Map.of("type", "QuotaReserved", "status", "True", "reason", "QuotaReserved", "message", "Quota reserved"))));
        assertThat(readmitted.evicted()).isFalse();
        assertThat(readmitted.pendingMessage()).isNull();
        assertThat(KueueWorkloads.read(workload(List.of())).pendingMessage()).isNull();
    }

    @Test
    void onlyASuspendedJobWithAQueueNameIsHeldByKueue() {
        Job queued = new JobBuilder().withNewMetadata().withName("run-attempt-1")
                .addToLabels("kueue.x-k8s.io/queue-name", "team-a").endMetadata().withNewSpec().withSuspend(true).endSpec().build();
        assertThat(KueueWorkloads.heldByKueue(queued)).isTrue();
        assertThat(KueueWorkloads.heldByKueue(new JobBuilder(queued).editSpec().withSuspend(false).endSpec().build())).isFalse();
        assertThat(KueueWorkloads.heldByKueue(new JobBuilder(queued).editMetadata().withLabels(Map.of()).endMetadata().build()))
                .as("suspended by someone else").isFalse();
    }
}
