import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.api.trainer.TrainerConfigs;
import dev.finetune.api.trainer.TrainerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the trainer config the operator would mount for one worker of a GPU gang: JOB.yaml's spec with
 * its PVCs mapped to local directories, backend nccl, world size 2, one process per pod. check.sh starts
 * rank 0 of it as the operator does (FINETUNE_CONFIG, RANK=0, LOCAL_RANK=0, no arguments).
 *
 * <pre>java -cp 'trainer-image/target/finetune-trainer-0.1.0-SNAPSHOT.jar:trainer-image/target/lib/*' GangConfig.java \
 *     JOB.yaml MODELS_DIR DATA_DIR OUTPUTS_DIR PORT OUT.json</pre>
 */
public final class GangConfig {

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            throw new IllegalArgumentException("usage: GangConfig JOB.yaml MODELS_DIR DATA_DIR OUTPUTS_DIR PORT OUT.json");
        }
        Map<String, Path> roots = Map.of("models", Path.of(args[1]).toAbsolutePath(),
                "data", Path.of(args[2]).toAbsolutePath(), "outputs", Path.of(args[3]).toAbsolutePath());
        TrainerConfig local = TrainerConfigs.forLocalRun(TrainerJson.readJob(Path.of(args[0])), claim -> {
            Path root = roots.get(claim);
            if (root == null) {
                throw new IllegalArgumentException(args[0] + " uses PVC " + claim + "; only models, data and outputs are mapped");
            }
            return root;
        }, null);
        TrainerConfig gang = new TrainerConfig(local.schemaVersion(), local.job(), 1, local.paths(), local.spec(),
                new TrainerConfig.Distributed(2, 1, CollectiveBackend.NCCL, "127.0.0.1", Integer.parseInt(args[4])), null, local.progress());
        Files.writeString(Path.of(args[5]), TrainerJson.write(gang));
    }
}
