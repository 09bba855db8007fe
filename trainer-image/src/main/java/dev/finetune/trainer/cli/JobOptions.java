package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The job a command works on, as its options: {@code JOB.yaml} with {@code --volume CLAIM=DIR} for each claim, or
 * {@code --config FILE}, a trainer config JSON as the operator writes it (see {@link JobInput}).
 */
final class JobOptions {

    @Parameters(arity = "0..1", paramLabel = "JOB.yaml", description = "the FineTuneJob manifest")
    Path job;

    @Option(names = "--volume", paramLabel = "CLAIM=DIR",
            description = "map a PVC claimName of the spec to a local directory (repeatable)")
    List<String> volumeOptions = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE", description = "trainer config JSON (instead of JOB.yaml)")
    Path configFile;

    /** The config a run trains with; {@code resumeFrom} is what a YAML job's resumeFrom becomes (null: fresh). */
    TrainerConfig forRun(String resumeFrom) {
        return JobInput.load(job, VolumeMappings.parse(volumeOptions), configFile, resumeFrom);
    }

    /** The config of a command that writes nothing: the output volume need not be mapped. */
    TrainerConfig forReading() {
        return JobInput.load(job, VolumeMappings.parse(volumeOptions), configFile, null, true);
    }

    /** The file the job came from, for messages. */
    Path source() {
        return job != null ? job : configFile;
    }
}
