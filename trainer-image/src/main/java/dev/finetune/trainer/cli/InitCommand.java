package dev.finetune.trainer.cli;

import dev.finetune.api.source.OciRef;
import dev.finetune.api.source.Source;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.VolumeResolver;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.PvcPath;
import dev.finetune.trainer.hub.HubClient;
import dev.finetune.trainer.hub.HubException;
import dev.finetune.trainer.hub.RetryPolicy;
import dev.finetune.trainer.hub.TransferProgress;
import dev.finetune.trainer.init.DownloadReporter;
import dev.finetune.trainer.init.ProgressPrinter;
import dev.finetune.trainer.oci.Registries;
import dev.finetune.trainer.oci.RegistryException;
import dev.finetune.trainer.init.SourceInitializer;
import dev.finetune.trainer.progress.ConfigMapProgressSink;
import dev.finetune.trainer.progress.ProgressSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code finetune init}: downloads a job's model.source and dataset.source into their cache directories
 * (what the operator's init container runs), or one source into a given cache.
 */
@Command(name = "init", description = {"Downloads hf:// (and oci://) sources into a cache directory, verified and resumable:",
        "every source of a FineTuneJob (JOB.yaml with --volume, or --config as in a pod), or one SOURCE with --cache-dir.",
        "Environment: HF_ENDPOINT (hub URL), HF_HUB_OFFLINE=1 (cache only), HF_TOKEN (token; or --token-file)."})
final class InitCommand implements Callable<Integer> {

    /** Environment variables the operator fills from model.tokenSecret and dataset.tokenSecret. */
    static final String MODEL_TOKEN_ENV = "FINETUNE_MODEL_TOKEN";
    static final String DATASET_TOKEN_ENV = "FINETUNE_DATASET_TOKEN";
    /** The worker's index in its gang; only rank 0 reports to the operator. */
    static final String NODE_RANK_ENV = "NODE_RANK";
    /** At most one progress report per this many milliseconds (besides each source's first and last). */
    static final long REPORT_INTERVAL_MILLIS = 2_000;

    @Parameters(arity = "0..1", paramLabel = "JOB.yaml|SOURCE",
            description = "a FineTuneJob manifest, or one source: hf://ORG/NAME[@REV], hf://datasets/ORG/NAME[@REV][/PATH]")
    String target;

    @Option(names = "--volume", paramLabel = "CLAIM=DIR", description = "map a PVC claimName of the spec to a local directory")
    List<String> volumeOptions = new ArrayList<>();

    private Map<String, Path> volumes = Map.of();

    @Option(names = "--config", paramLabel = "FILE",
            description = "trainer config JSON (in a pod: volumes under /mnt/volumes, else as mapped by --volume)")
    Path configFile;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "the cache to download SOURCE into")
    Path cacheDir;

    @Option(names = "--token-file", paramLabel = "FILE", description = "file holding the hub token (default: $HF_TOKEN)")
    Path tokenFile;

    /** The process environment; tests substitute their own. */
    Map<String, String> env = System.getenv();

    /** Where rank 0's download reports go; tests substitute their own. */
    Function<TrainerConfig.ProgressChannel, ProgressSink> progressSinks = InitCommand::inClusterSink;
    long reportIntervalMillis = REPORT_INTERVAL_MILLIS;

    private DownloadReporter reporter;

    @Option(names = "--docker-config", paramLabel = "FILE",
            description = "Docker config JSON with registry credentials for oci:// (default: $FINETUNE_DOCKER_CONFIG)")
    Path dockerConfig;

    @Override
    public Integer call() throws IOException {
        volumes = VolumeMappings.parse(volumeOptions);
        SourceInitializer initializer = new SourceInitializer(env, RetryPolicy.standard());
        if (target != null && (target.startsWith("hf://") || target.startsWith("oci://"))) {
            if (cacheDir == null) {
                throw CliException.usage("SOURCE " + target + " needs --cache-dir DIR", "name the directory to download into");
            }
            Source source = Source.parse(target, "SOURCE");
            fetch(initializer, "source", source, cacheDir, credential(source, null));
            return 0;
        }
        if (cacheDir != null) {
            throw CliException.usage("--cache-dir goes with one SOURCE", "a job's caches are its pvc directories");
        }
        FineTuneJobSpec spec;
        VolumeResolver resolver;
        if (configFile != null) {
            TrainerConfig config = JobInput.load(null, Map.of(), configFile, null);
            spec = config.spec();
            resolver = volumes.isEmpty() ? VolumeResolver.inCluster() : this::mappedVolume;
            reporter = reporter(config);
        } else {
            TrainerConfig config = JobInput.load(target == null ? null : Path.of(target), volumes, null, null, true);
            spec = config.spec();
            resolver = claim -> volumes.get(claim).toAbsolutePath();
        }
        try {
            return fetchAll(initializer, spec, resolver);
        } finally {
            if (reporter != null) {
                reporter.close();
            }
        }
    }

    private int fetchAll(SourceInitializer initializer, FineTuneJobSpec spec, VolumeResolver resolver) throws IOException {
        int fetched = 0;
        if (spec.getModel().getSource() != null) {
            Source source = Source.parse(spec.getModel().getSource(), "spec.model.source");
            fetch(initializer, "model", source, cacheRoot(spec.getModel().getPvc(), resolver), credential(source, MODEL_TOKEN_ENV));
            fetched++;
        }
        if (spec.getDataset().getSource() != null) {
            Source source = Source.parse(spec.getDataset().getSource(), "spec.dataset.source");
            fetch(initializer, "dataset", source, cacheRoot(spec.getDataset().getPvc(), resolver),
                    credential(source, DATASET_TOKEN_ENV));
            fetched++;
        }
        if (fetched == 0) {
            System.out.println("nothing to download: the job's model and dataset are on volumes (no source set)");
        }
        return 0;
    }

    private Path mappedVolume(String claim) {
        Path dir = volumes.get(claim);
        if (dir == null) {
            throw CliException.usage("the config mounts claim " + claim + " but no --volume maps it",
                    "add --volume " + claim + "=DIR (or no --volume at all inside a pod)");
        }
        return dir.toAbsolutePath();
    }

    /**
     * In a pod of an operator's job, rank 0's initializer reports its downloads to the job's progress ConfigMap (under
     * its own key); other ranks and local runs only print them.
     */
    private DownloadReporter reporter(TrainerConfig config) {
        TrainerConfig.ProgressChannel channel = config.progress();
        String rank = env.get(NODE_RANK_ENV);
        if (channel == null || channel.configMapName() == null || (rank != null && !rank.strip().equals("0"))) {
            return null;
        }
        return new DownloadReporter(progressSinks.apply(channel), config.attempt(), reportIntervalMillis, Clock.systemUTC());
    }

    private static ProgressSink inClusterSink(TrainerConfig.ProgressChannel channel) {
        try {
            return ConfigMapProgressSink.inCluster(channel.namespace(), channel.configMapName(),
                    TrainerConfigs.INITIALIZER_PROGRESS_KEY);
        } catch (IOException e) {
            System.err.println("warning: progress ConfigMap unavailable (" + e.getMessage() + "); the download's progress"
                    + " is in this log only");
            return report -> { };
        }
    }

    private static Path cacheRoot(PvcPath pvc, VolumeResolver resolver) {
        return resolver.root(pvc.getClaimName()).resolve(pvc.getPath()).normalize();
    }

    private void fetch(SourceInitializer initializer, String what, Source source, Path cache, String token) {
        String label = what + " " + source.uri();
        TransferProgress printer = new ProgressPrinter(System.out, label, 5_000, System::nanoTime);
        TransferProgress progress = reporter == null ? printer : both(printer, reporter.source(what, source.uri()));
        try {
            Path content = initializer.fetch(source, cache, token, progress);
            System.out.println(label + ": ready at " + content);
        } catch (RegistryException e) {
            throw CliException.of(e.transientFailure() ? FailureReason.COMMUNICATION : FailureReason.BAD_CONFIG,
                    label + ": " + e.getMessage(), "check the reference and the registry credentials (tokenSecret)", e);
        } catch (HubException e) {
            FailureReason reason = e.transientFailure() ? FailureReason.COMMUNICATION : FailureReason.BAD_CONFIG;
            String hint = switch (e.kind()) {
                case UNAUTHORIZED -> "put the hub token in a Secret and name it in tokenSecret (locally: HF_TOKEN or --token-file)";
                case NOT_FOUND -> "check the repository, revision and path in the source";
                case RATE_LIMITED, UNAVAILABLE -> "the download resumes where it stopped when run again";
                case CORRUPT -> "check any proxy between here and " + HubClient.ENDPOINT_ENV + "; the partial file was removed";
                case NOT_CACHED -> "download once without HF_HUB_OFFLINE";
                case PROTOCOL -> "point " + HubClient.ENDPOINT_ENV + " at a Hugging Face Hub compatible server";
            };
            throw CliException.of(reason, label + ": " + e.getMessage(), hint, e);
        }
    }

    private static TransferProgress both(TransferProgress a, TransferProgress b) {
        return (done, total) -> {
            a.update(done, total);
            b.update(done, total);
        };
    }

    /** The hub token for hf://, the Docker config file's path for oci:// (null: anonymous). */
    private String credential(Source source, String tokenEnv) throws IOException {
        if (source instanceof OciRef) {
            if (dockerConfig != null) {
                return dockerConfig.toString();
            }
            String fromEnv = env.get(Registries.DOCKER_CONFIG_ENV);
            return fromEnv == null || fromEnv.isBlank() ? null : fromEnv;
        }
        return token(tokenEnv);
    }

    private String token(String specificEnv) throws IOException {
        if (tokenFile != null) {
            if (!Files.isReadable(tokenFile)) {
                throw CliException.usage("--token-file " + tokenFile + " cannot be read", "give a readable file holding the token");
            }
            return Files.readString(tokenFile).strip();
        }
        if (specificEnv != null && env.get(specificEnv) != null && !env.get(specificEnv).isBlank()) {
            return env.get(specificEnv);
        }
        return env.get(HubClient.TOKEN_ENV);
    }
}
