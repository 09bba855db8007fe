package dev.finetune.trainer.launch;

import dev.finetune.api.trainer.TrainerConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which training processes one worker starts and the environment of each (what {@code torchrun} derives):
 * {@code RANK = NODE_RANK × LOCAL_WORLD_SIZE + LOCAL_RANK}. Pure: the pod's environment comes in as a map.
 *
 * @param nodeRank this worker's index in the gang (the pod's completion index)
 * @param threadsPerRank {@code OMP_NUM_THREADS} of each rank: the worker's thread budget split evenly
 * @param threadBudget the worker's {@code OMP_NUM_THREADS}, or the cores the JVM sees when it is unset
 */
public record LaunchPlan(int workers, int nodeRank, int processesPerWorker, int threadsPerRank, int threadBudget,
        List<Rank> ranks) {

    public static final String LOCAL_RANK = "LOCAL_RANK";
    public static final String RANK = "RANK";
    public static final String NODE_RANK = "NODE_RANK";
    public static final String LOCAL_WORLD_SIZE = "LOCAL_WORLD_SIZE";
    public static final String WORLD_SIZE = "WORLD_SIZE";
    public static final String MASTER_ADDR = "MASTER_ADDR";
    public static final String MASTER_PORT = "MASTER_PORT";
    public static final String OMP_NUM_THREADS = "OMP_NUM_THREADS";

    /** One process to start: its ranks and the variables it gets on top of the worker's environment. */
    public record Rank(int localRank, int globalRank, Map<String, String> env) {
    }

    public LaunchPlan {
        ranks = List.copyOf(ranks);
    }

    public int worldSize() {
        return workers * processesPerWorker;
    }

    /** True in a process the launcher started: it trains as one rank instead of launching again. */
    public static boolean isRankProcess(Map<String, String> environment) {
        return environment.containsKey(LOCAL_RANK);
    }

    /** True when this process must start the worker's ranks rather than train itself. */
    public static boolean needsLauncher(TrainerConfig.Distributed distributed, Map<String, String> environment) {
        return distributed != null && distributed.processesPerWorker() > 1 && !isRankProcess(environment);
    }

    /**
     * The ranks of this worker.
     *
     * @param environment the worker's environment: {@code NODE_RANK} (required when the gang has several
     *     workers), and, when set, {@code LOCAL_WORLD_SIZE} / {@code WORLD_SIZE} (must agree with the config)
     *     and {@code OMP_NUM_THREADS} (split among the ranks)
     * @param availableProcessors the cores this JVM may use (its container's CPU limit), the thread budget
     *     when {@code OMP_NUM_THREADS} is unset
     * @throws IllegalArgumentException naming the variable or config field that is wrong
     */
    public static LaunchPlan derive(TrainerConfig.Distributed distributed, Map<String, String> environment,
            int availableProcessors) {
        int perWorker = distributed.processesPerWorker();
        int workers = distributed.workers();
        if (perWorker < 1 || workers < 1) {
            throw new IllegalArgumentException("trainer config: distributed.workers (" + workers
                    + ") and distributed.processesPerWorker (" + perWorker + ") must be at least 1");
        }
        int nodeRank = nodeRank(environment, workers);
        expect(environment, LOCAL_WORLD_SIZE, perWorker, "distributed.processesPerWorker");
        expect(environment, WORLD_SIZE, workers * perWorker, "distributed.workers × processesPerWorker");
        int budget = environment.containsKey(OMP_NUM_THREADS)
                ? positive(environment.get(OMP_NUM_THREADS), OMP_NUM_THREADS)
                : Math.max(1, availableProcessors);
        // Equal shares: data-parallel ranks wait for each other every step, so an extra thread for
        // some ranks would not make the step faster. At least one each, even if that oversubscribes.
        int threads = Math.max(1, budget / perWorker);
        List<Rank> ranks = new ArrayList<>();
        for (int local = 0; local < perWorker; local++) {
            int global = nodeRank * perWorker + local;
            Map<String, String> env = new LinkedHashMap<>();
            env.put(LOCAL_RANK, Integer.toString(local));
            env.put(RANK, Integer.toString(global));
            env.put(NODE_RANK, Integer.toString(nodeRank));
            env.put(LOCAL_WORLD_SIZE, Integer.toString(perWorker));
            env.put(WORLD_SIZE, Integer.toString(workers * perWorker));
            env.put(MASTER_ADDR, distributed.rendezvousHost());
            env.put(MASTER_PORT, Integer.toString(distributed.rendezvousPort()));
            env.put(OMP_NUM_THREADS, Integer.toString(threads));
            ranks.add(new Rank(local, global, env));
        }
        return new LaunchPlan(workers, nodeRank, perWorker, threads, budget, ranks);
    }

    private static int nodeRank(Map<String, String> environment, int workers) {
        String value = environment.get(NODE_RANK);
        if (value == null || value.isBlank()) {
            if (workers == 1) {
                return 0;
            }
            throw new IllegalArgumentException(NODE_RANK + " is not set: each of the " + workers + " workers needs its "
                    + "index (the operator sets it from the pod's completion index)");
        }
        int nodeRank;
        try {
            nodeRank = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(NODE_RANK + "=" + value + " is not a number (expected 0.." + (workers - 1) + ")");
        }
        if (nodeRank < 0 || nodeRank >= workers) {
            throw new IllegalArgumentException(NODE_RANK + "=" + nodeRank + " is outside 0.." + (workers - 1)
                    + " (the trainer config's distributed.workers is " + workers + ")");
        }
        return nodeRank;
    }

    private static void expect(Map<String, String> environment, String name, int expected, String field) {
        String value = environment.get(name);
        if (value != null && !value.isBlank() && !value.strip().equals(Integer.toString(expected))) {
            throw new IllegalArgumentException(name + "=" + value + " disagrees with the trainer config (" + field + " = "
                    + expected + "); the pod and its config come from different job specs, or " + name
                    + " was set by hand");
        }
    }

    private static int positive(String value, String name) {
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + value + " is not a positive whole number of threads; unset it "
                + "or set e.g. " + name + "=4");
    }
}
