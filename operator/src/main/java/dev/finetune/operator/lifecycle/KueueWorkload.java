package dev.finetune.operator.lifecycle;

/**
 * What Kueue says about a queued worker Job, read from its Workload ({@code kubectl get workloads}).
 *
 * @param name the Workload's name
 * @param pendingMessage why it holds no quota, from the Workload's QuotaReserved=False condition (e.g. "couldn't assign
 *     flavors to pod set main: insufficient unused quota for cpu in flavor default, 400m more needed"); null when none
 * @param evictedMessage why Kueue took an admitted Workload's quota back, from its Evicted=True condition (e.g.
 *     "Preempted to accommodate a workload ... due to prioritization in the ClusterQueue"); null when not evicted
 */
public record KueueWorkload(String name, String pendingMessage, String evictedMessage) {

    /** Kueue admitted the gang once and took the admission back; the Job stays suspended until re-admitted. */
    public boolean evicted() {
        return evictedMessage != null;
    }
}
