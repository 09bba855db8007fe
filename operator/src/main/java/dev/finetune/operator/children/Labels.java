package dev.finetune.operator.children;

import java.util.LinkedHashMap;
import java.util.Map;

/** Labels on every child; informers select on {@link #MANAGED_BY}, mappers read {@link #JOB}. */
public final class Labels {

    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "finetune-operator";
    public static final String NAME = "app.kubernetes.io/name";
    public static final String NAME_VALUE = "finetune";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String JOB = "finetune.dev/job";
    public static final String ATTEMPT = "finetune.dev/attempt";
    /** Kueue's queue label; copied from the FineTuneJob to the worker Job. */
    public static final String KUEUE_QUEUE_NAME = "kueue.x-k8s.io/queue-name";
    public static final String KUEUE_PRIORITY_CLASS = "kueue.x-k8s.io/priority-class";

    /** Selector of the informers: everything this operator created. */
    public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + MANAGED_BY_VALUE;

    public static final String COMPONENT_CONFIG = "trainer-config";
    public static final String COMPONENT_PROGRESS = "progress";
    public static final String COMPONENT_RENDEZVOUS = "rendezvous";
    public static final String COMPONENT_IDENTITY = "progress-reporter";
    public static final String COMPONENT_NETWORK = "network-policy";
    public static final String COMPONENT_WORKER = "worker";

    private Labels() {
    }

    /** The labels of a child of job {@code job}. */
    public static Map<String, String> forChild(String job, String component) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, MANAGED_BY_VALUE);
        labels.put(NAME, NAME_VALUE);
        labels.put(COMPONENT, component);
        labels.put(JOB, job);
        return labels;
    }

    /** Labels selecting every worker pod of job {@code job}, any attempt. */
    public static Map<String, String> workerSelector(String job) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(JOB, job);
        labels.put(COMPONENT, COMPONENT_WORKER);
        return labels;
    }
}
