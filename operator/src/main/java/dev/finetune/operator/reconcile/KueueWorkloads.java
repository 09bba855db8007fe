package dev.finetune.operator.reconcile;

import dev.finetune.operator.children.Labels;
import dev.finetune.operator.lifecycle.KueueWorkload;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Reads the Kueue Workload of a suspended, queued worker Job (the one API call a round makes besides writes): Kueue
 * keeps the reason a gang waits on the Workload, not on the Job. Without Kueue's CRDs, or without RBAC on workloads,
 * there is no Workload to read and the job's message just names its LocalQueue.
 */
final class KueueWorkloads {

    static final ResourceDefinitionContext WORKLOADS = new ResourceDefinitionContext.Builder()
            .withGroup("kueue.x-k8s.io").withVersion("v1beta2").withKind("Workload").withPlural("workloads")
            .withNamespaced(true).build();
    /** The label Kueue puts on a Job's Workload: the Job's UID. */
    static final String JOB_UID_LABEL = "kueue.x-k8s.io/job-uid";
    private static final Logger LOG = Logger.getLogger(KueueWorkloads.class);

    private KueueWorkloads() {
    }

    /** Whether Kueue holds this Job: it carries a queue name and is suspended. */
    static boolean heldByKueue(Job job) {
        var labels = job.getMetadata().getLabels();
        return labels != null && labels.containsKey(Labels.KUEUE_QUEUE_NAME) && job.getSpec() != null
                && Boolean.TRUE.equals(job.getSpec().getSuspend()) && job.getMetadata().getDeletionTimestamp() == null;
    }

    static Optional<KueueWorkload> of(KubernetesClient client, Job job) {
        if (job.getMetadata().getUid() == null) {
            return Optional.empty();
        }
        try {
            List<GenericKubernetesResource> items = client.genericKubernetesResources(WORKLOADS)
                    .inNamespace(job.getMetadata().getNamespace()).withLabel(JOB_UID_LABEL, job.getMetadata().getUid())
                    .list().getItems();
            return items.stream().findFirst().map(KueueWorkloads::read);
        } catch (KubernetesClientException e) {
            LOG.debugf("no Kueue Workload readable for Job %s/%s: %s", job.getMetadata().getNamespace(),
                    job.getMetadata().getName(), e.getMessage());
            return Optional.empty();
        }
    }

    /** The reasons from a Workload's conditions. */
    static KueueWorkload read(GenericKubernetesResource workload) {
        String pending = null;
        String evicted = null;
        Object status = workload.getAdditionalProperties().get("status");
        Object conditions = status instanceof Map<?, ?> m ? m.get("conditions") : null;
        if (conditions instanceof List<?> list) {
            for (Object item : list) {
                if (!(item instanceof Map<?, ?> c)) {
                    continue;
                }
                String type = String.valueOf(c.get("type"));
                String state = String.valueOf(c.get("status"));
                Object message = c.get("message");
                if ("QuotaReserved".equals(type) && "False".equals(state) && message != null) {
                    pending = message.toString();
                } else if ("Evicted".equals(type) && "True".equals(state)) {
                    evicted = message == null ? "evicted" : message.toString();
                }
            }
        }
        return new KueueWorkload(workload.getMetadata().getName(), pending, evicted);
    }
}
