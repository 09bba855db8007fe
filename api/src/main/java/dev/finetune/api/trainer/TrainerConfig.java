package dev.finetune.api.trainer;

import dev.finetune.api.v1alpha1.FineTuneJobSpec;

/**
 * Everything a trainer process needs, handed over by the operator (a ConfigMap mounted as a file) or
 * built by {@code finetune run} from the same YAML. Per-process facts (rank, local rank, master
 * address) come from the environment, so every worker of a gang reads the same config.
 *
 * @param job which FineTuneJob this run belongs to
 * @param attempt 1 for the first gang, +1 for each restart
 * @param paths the spec's volume paths resolved to local directories and files
 * @param spec the spec as applied, defaults filled in
 * @param distributed the gang's shape
 * @param resumeFrom checkpoint directory to resume from (relative to {@code paths.outputDir}), or null for a fresh start
 * @param progress where rank 0 reports progress
 */
public record TrainerConfig(
        int schemaVersion,
        JobRef job,
        int attempt,
        Paths paths,
        FineTuneJobSpec spec,
        Distributed distributed,
        String resumeFrom,
        ProgressChannel progress) {

    public static final int SCHEMA_VERSION = 1;

    /** Identity of the FineTuneJob; {@code uid} is null for local runs. */
    public record JobRef(String name, String namespace, String uid) {
    }

    /**
     * Local paths. {@code datasetPath} is a file or a directory of JSON/JSONL files; {@code evalPath} is
     * null unless the spec names an eval file; {@code outputDir} is the run directory, created if missing.
     */
    public record Paths(String modelDir, String datasetPath, String evalPath, String outputDir) {
    }

    /**
     * The gang: {@code workers} pods with {@code processesPerWorker} training processes each.
     *
     * @param backend {@code nccl} across GPUs, {@code tcp} (a ring over sockets) on CPU
     * @param rendezvousHost rank 0's stable DNS name (a headless Service record), or localhost
     * @param rendezvousPort port rank 0 listens on for the rendezvous
     */
    public record Distributed(int workers, int processesPerWorker, CollectiveBackend backend, String rendezvousHost, int rendezvousPort) {

        public int worldSize() {
            return workers * processesPerWorker;
        }
    }

    /**
     * Where rank 0 writes {@link ProgressReport}s: a ConfigMap (in a cluster) and/or a file (always,
     * {@code progress.json} in the output dir, so a local run and a debugging user see the same).
     */
    public record ProgressChannel(String configMapName, String namespace, String key, String file) {
    }
}
