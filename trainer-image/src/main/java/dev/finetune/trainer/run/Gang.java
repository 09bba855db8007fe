package dev.finetune.trainer.run;

import ai.djl.Device;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.trainer.dist.Collective;
import dev.finetune.trainer.dist.GangTimeouts;
import dev.finetune.trainer.dist.GpuEnvironmentException;
import dev.finetune.trainer.dist.NcclCollective;
import dev.finetune.trainer.dist.TcpCollective;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import dev.finetune.trainer.train.TrainingException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;

/**
 * This process's place in the gang: the collective its gradients are summed with, and the device it trains
 * on (null: DJL's default device, for CPU workers and a single process).
 */
record Gang(Collective collective, Device device) {

    /** A process training alone. */
    static Gang single() {
        return new Gang(Collective.single(), null);
    }

    /**
     * Connects rank {@code rank} of {@code world} to the others: a TCP group on CPU workers, NCCL (with the TCP
     * group for rendezvous and small sums) across GPUs, where each process trains on GPU {@code LOCAL_RANK}. A
     * machine that cannot run a GPU process fails with BAD_CONFIG before it joins.
     */
    static Gang join(TrainerConfig.Distributed d, int rank, int world, Map<String, String> env, PrintStream out) {
        Duration rendezvous = GangTimeouts.rendezvous(env);
        Duration collectiveTimeout = GangTimeouts.collective(env);
        return switch (d.backend()) {
            case TCP -> {
                Collective tcp = TcpCollective.connect(rank, world, d.rendezvousHost(), d.rendezvousPort(), rendezvous,
                        collectiveTimeout);
                out.println("rank " + rank + " of " + world + " connected");
                yield new Gang(tcp, null);
            }
            case NCCL -> {
                int localRank = localRank(env);
                try {
                    NcclCollective nccl = NcclCollective.connect(new NcclCollective.Settings(rank, world,
                            d.rendezvousHost(), d.rendezvousPort(), localRank, rendezvous, collectiveTimeout),
                            NativeLibraryLocator.ofProcess());
                    out.println("rank " + rank + " of " + world + " connected (NCCL, GPU " + localRank + ")");
                    yield new Gang(nccl, nccl.device());
                } catch (GpuEnvironmentException e) {
                    throw new TrainingException(FailureReason.BAD_CONFIG, "rank " + rank + ": this machine cannot run "
                            + "a GPU worker: " + e.getMessage(), e);
                }
            }
        };
    }

    /** The GPU of this process on its node (set per process by the launcher; 0 for one process per pod). */
    private static int localRank(Map<String, String> env) {
        String value = env.getOrDefault("LOCAL_RANK", "0");
        try {
            int localRank = Integer.parseInt(value.strip());
            if (localRank >= 0) {
                return localRank;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TrainingException(FailureReason.BAD_CONFIG, "LOCAL_RANK=" + value + " is not a GPU index (0, 1, ...)");
    }
}
