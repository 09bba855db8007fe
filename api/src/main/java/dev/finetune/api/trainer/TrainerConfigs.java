package dev.finetune.api.trainer;

import dev.finetune.api.trainer.TrainerConfig.Distributed;
import dev.finetune.api.trainer.TrainerConfig.JobRef;
import dev.finetune.api.trainer.TrainerConfig.Paths;
import dev.finetune.api.trainer.TrainerConfig.ProgressChannel;
import dev.finetune.api.source.Source;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.PvcPath;
import java.nio.file.Path;

/**
 * Derives the {@link TrainerConfig} from a FineTuneJob. The operator and {@code finetune run} both call
 * this, so one YAML means the same run in a cluster and on a laptop; only the volume roots differ.
 */
public final class TrainerConfigs {

    /** Environment variable naming the config file inside a worker. */
    public static final String CONFIG_FILE_ENV = "FINETUNE_CONFIG";
    /** Where the operator mounts the config in a worker. */
    public static final String IN_CLUSTER_CONFIG_FILE = "/etc/finetune/trainer-config.json";
    /** Key of the config in its ConfigMap. */
    public static final String CONFIG_KEY = "trainer-config.json";
    /** Key of the latest {@link ProgressReport} in the progress ConfigMap. */
    public static final String PROGRESS_KEY = "progress.json";
    /**
     * Key of the initializer's latest {@link ProgressReport} (its downloads) in the same ConfigMap. A key of its own:
     * the initializer and the trainer number their reports independently, and neither overwrites the other's.
     */
    public static final String INITIALIZER_PROGRESS_KEY = "initialize.json";
    /** File rank 0 also writes the latest report to, in the output dir. */
    public static final String PROGRESS_FILE = "progress.json";
    public static final int DEFAULT_RENDEZVOUS_PORT = 29500;

    private TrainerConfigs() {
    }

    /** The ConfigMap that rank 0 of job {@code jobName} writes its reports to. */
    public static String progressConfigMapName(String jobName) {
        return jobName + "-progress";
    }

    /** The ConfigMap holding the trainer config of job {@code jobName}. */
    public static String configMapName(String jobName) {
        return jobName + "-config";
    }

    /** The config for the workers of a cluster job: volumes under {@link VolumeResolver#IN_CLUSTER_ROOT}. */
    public static TrainerConfig forCluster(FineTuneJob job, int attempt, String resumeFrom, String rendezvousHost) {
        FineTuneJobSpec spec = job.getSpec();
        int gpus = spec.getResources().getGpus();
        Distributed distributed = new Distributed(spec.getResources().getWorkers(), Math.max(gpus, 1),
                CollectiveBackend.forGpus(gpus), rendezvousHost, DEFAULT_RENDEZVOUS_PORT);
        String name = job.getMetadata().getName();
        String namespace = job.getMetadata().getNamespace();
        Paths paths = resolvePaths(spec, VolumeResolver.inCluster());
        ProgressChannel progress = new ProgressChannel(progressConfigMapName(name), namespace, PROGRESS_KEY,
                Path.of(paths.outputDir(), PROGRESS_FILE).toString());
        return new TrainerConfig(TrainerConfig.SCHEMA_VERSION, new JobRef(name, namespace, job.getMetadata().getUid()),
                attempt, paths, spec, distributed, resumeFrom, progress);
    }

    /**
     * The config for {@code finetune run} on one machine: one process, volumes mapped to local dirs,
     * progress to a file only. Resumes from the latest checkpoint in the output dir when one exists
     * ({@code resumeFrom} "latest" lets the trainer find it).
     */
    public static TrainerConfig forLocalRun(FineTuneJob job, VolumeResolver volumes, String resumeFrom) {
        FineTuneJobSpec spec = job.getSpec();
        String name = job.getMetadata() != null && job.getMetadata().getName() != null ? job.getMetadata().getName() : "local";
        Paths paths = resolvePaths(spec, volumes);
        ProgressChannel progress = new ProgressChannel(null, null, PROGRESS_KEY, Path.of(paths.outputDir(), PROGRESS_FILE).toString());
        Distributed single = new Distributed(1, 1, CollectiveBackend.TCP, "localhost", DEFAULT_RENDEZVOUS_PORT);
        return new TrainerConfig(TrainerConfig.SCHEMA_VERSION, new JobRef(name, null, null), 1, paths, spec, single,
                resumeFrom, progress);
    }

    /** The spec's volume paths as local paths under the given volume roots. */
    public static Paths resolvePaths(FineTuneJobSpec spec, VolumeResolver volumes) {
        DatasetSpec dataset = spec.getDataset();
        Path datasetRoot = volumes.root(dataset.getPvc().getClaimName());
        String evalPath = dataset.getEvalPath() == null ? null : datasetRoot.resolve(dataset.getEvalPath()).normalize().toString();
        return new Paths(resolve(spec.getModel().getPvc(), spec.getModel().getSource(), "spec.model.source", volumes),
                resolve(dataset.getPvc(), dataset.getSource(), "spec.dataset.source", volumes), evalPath,
                resolve(spec.getOutput().getPvc(), volumes));
    }

    /** A volume path, or with a source the content the initializer downloads into that directory (its cache). */
    private static String resolve(PvcPath pvc, String source, String sourceField, VolumeResolver volumes) {
        if (source == null) {
            return resolve(pvc, volumes);
        }
        Path cacheRoot = Path.of(resolve(pvc, volumes));
        return Source.parse(source, sourceField).contentDir(cacheRoot).normalize().toString();
    }

    private static String resolve(PvcPath pvc, VolumeResolver volumes) {
        return volumes.root(pvc.getClaimName()).resolve(pvc.getPath()).normalize().toString();
    }
}
