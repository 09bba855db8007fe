package dev.finetune.trainer.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.trainer.CollectiveBackend;
import dev.finetune.api.trainer.TrainerConfig.Distributed;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaunchPlanTest {

    static final Distributed TWO_BY_FOUR = new Distributed(2, 4, CollectiveBackend.NCCL, "job-0.job.ns.svc", 29500);

    @Test
    void secondWorkerOfTwoWithFourProcessesRunsGlobalRanksFourToSeven() {
        LaunchPlan plan = LaunchPlan.derive(TWO_BY_FOUR,
                Map.of("NODE_RANK", "1", "LOCAL_WORLD_SIZE", "4", "WORLD_SIZE", "8", "OMP_NUM_THREADS", "16"), 64);
        assertThat(plan.ranks()).extracting(LaunchPlan.Rank::globalRank).containsExactly(4, 5, 6, 7);
        assertThat(plan.ranks()).extracting(LaunchPlan.Rank::localRank).containsExactly(0, 1, 2, 3);
        assertThat(plan.worldSize()).isEqualTo(8);
        assertThat(plan.ranks().get(2).env()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "LOCAL_RANK", "2", "RANK", "6", "NODE_RANK", "1", "LOCAL_WORLD_SIZE", "4", "WORLD_SIZE", "8",
                "MASTER_ADDR", "job-0.job.ns.svc", "MASTER_PORT", "29500", "OMP_NUM_THREADS", "4"));
        assertThat(plan.threadsPerRank()).isEqualTo(4);
        assertThat(plan.threadBudget()).isEqualTo(16);
    }

    @Test
    void aSingleWorkerNeedsNoNodeRank() {
        LaunchPlan plan = LaunchPlan.derive(new Distributed(1, 2, CollectiveBackend.TCP, "127.0.0.1", 40000), Map.of(), 8);
        assertThat(plan.nodeRank()).isZero();
        assertThat(plan.ranks()).extracting(r -> r.env().get("RANK")).containsExactly("0", "1");
        assertThat(plan.ranks()).extracting(r -> r.env().get("MASTER_PORT")).containsOnly("40000");
    }

    @Test
    void withoutOmpNumThreadsTheCoresTheJvmSeesAreSplit() {
        LaunchPlan plan = LaunchPlan.derive(new Distributed(1, 3, CollectiveBackend.TCP, "127.0.0.1", 29500), Map.of(), 8);
        assertThat(plan.threadBudget()).isEqualTo(8);
        assertThat(plan.ranks()).extracting(r -> r.env().get("OMP_NUM_THREADS")).containsOnly("2");
    }

    @Test
    void fewerThreadsThanRanksStillGivesEachRankOne() {
        LaunchPlan plan = LaunchPlan.derive(new Distributed(1, 4, CollectiveBackend.TCP, "127.0.0.1", 29500), Map.of("OMP_NUM_THREADS", "3"), 8);
        assertThat(plan.ranks()).extracting(r -> r.env().get("OMP_NUM_THREADS")).containsOnly("1");
    }

    @Test
    void childMarkerIsLocalRank() {
        Distributed d = new Distributed(1, 2, CollectiveBackend.TCP, "127.0.0.1", 29500);
        assertThat(LaunchPlan.needsLauncher(d, Map.of())).isTrue();
        assertThat(LaunchPlan.needsLauncher(d, Map.of("LOCAL_RANK", "1"))).isFalse();
        assertThat(LaunchPlan.needsLauncher(new Distributed(4, 1, CollectiveBackend.TCP, "h", 29500), Map.of())).isFalse();
        assertThat(LaunchPlan.needsLauncher(null, Map.of())).isFalse();
    }

    @Test
    void badEnvironmentIsNamedWithTheFix() {
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of(), 8))
                .hasMessageContaining("NODE_RANK is not set").hasMessageContaining("completion index");
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of("NODE_RANK", "2"), 8))
                .hasMessageContaining("NODE_RANK=2 is outside 0..1");
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of("NODE_RANK", "one"), 8))
                .hasMessageContaining("NODE_RANK=one is not a number");
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of("NODE_RANK", "0", "LOCAL_WORLD_SIZE", "8"), 8))
                .hasMessageContaining("LOCAL_WORLD_SIZE=8 disagrees").hasMessageContaining("processesPerWorker = 4");
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of("NODE_RANK", "0", "WORLD_SIZE", "4"), 8))
                .hasMessageContaining("WORLD_SIZE=4 disagrees").hasMessageContaining("= 8");
        assertThatThrownBy(() -> LaunchPlan.derive(TWO_BY_FOUR, Map.of("NODE_RANK", "0", "OMP_NUM_THREADS", "0"), 8))
                .hasMessageContaining("OMP_NUM_THREADS=0 is not a positive whole number");
    }

    @Test
    void jvmOptionsFromTheEnvironmentAndDebuggerAgentsAreNotRepeated() {
        List<String> options = ChildCommand.jvmOptions(List.of("--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Xmx2g", "-agentlib:jdwp=transport=dt_socket,server=y,address=5005"),
                Map.of("JAVA_TOOL_OPTIONS", " --enable-native-access=ALL-UNNAMED  -Dai.djl.offline=true"));
        assertThat(options).containsExactly("-Xmx2g");
    }
}
