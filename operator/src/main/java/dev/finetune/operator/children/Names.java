package dev.finetune.operator.children;

import dev.finetune.api.trainer.TrainerConfigs;

/** The names of a job's children; one place, so the reconciler, the tests and the docs agree. */
public final class Names {

    /**
     * Longest FineTuneJob name the operator accepts: the worker pods' hostnames are
     * {@code <job>-attempt-<n>-<index>} and must fit a 63-character DNS label (attempt up to 101, index up to 255).
     */
    public static final int MAX_JOB_NAME_LENGTH = 47;

    private Names() {
    }

    public static String configMap(String job) {
        return TrainerConfigs.configMapName(job);
    }

    public static String progressConfigMap(String job) {
        return TrainerConfigs.progressConfigMapName(job);
    }

    /** Headless Service that gives each worker pod a stable DNS name. */
    public static String service(String job) {
        return job + "-workers";
    }

    /** ServiceAccount, Role and RoleBinding of the workers: they may write {@code <job>-progress} only. */
    public static String serviceAccount(String job) {
        return job + "-trainer";
    }

    public static String networkPolicy(String job) {
        return job;
    }

    /** The batch/v1 Job running attempt {@code attempt} (1-based) of the gang. */
    public static String workerJob(String job, int attempt) {
        return job + "-attempt-" + attempt;
    }

    /** Rank 0's stable DNS name: pod hostname {@code <workerJob>-0} under the headless Service's subdomain. */
    public static String rendezvousHost(String job, String namespace, int attempt) {
        return workerJob(job, attempt) + "-0." + service(job) + "." + namespace + ".svc";
    }
}
