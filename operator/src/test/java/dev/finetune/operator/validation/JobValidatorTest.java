package dev.finetune.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.PvcPath;
import dev.finetune.operator.Fixtures;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class JobValidatorTest {

    static Function<String, Optional<PersistentVolumeClaim>> claims(Map<String, String> phases) {
        return name -> Optional.ofNullable(phases.get(name)).map(phase -> Fixtures.pvc("ns", name, phase));
    }

    static final Map<String, String> ALL_BOUND = Map.of("models", "Bound", "data", "Bound", "outputs", "Bound");

    static ValidationResult validate(FineTuneJob job, Map<String, String> phases, Optional<String> mode, List<FineTuneJob> others) {
        return JobValidator.validate(job, claims(phases), sc -> mode, others);
    }

    @Test
    void boundClaimsAreValid() {
        ValidationResult result = validate(Fixtures.job("ns", "qwen"), ALL_BOUND, Optional.empty(), List.of());
        assertThat(result.valid()).isTrue();
        assertThat(result.reason()).isEqualTo("Valid");
    }

    @Test
    void missingClaimIsNamedWithItsField() {
        ValidationResult result = validate(Fixtures.job("ns", "qwen"), Map.of("models", "Bound", "outputs", "Bound"),
                Optional.empty(), List.of());
        assertThat(result.valid()).isFalse();
        assertThat(result.reason()).isEqualTo("PvcNotFound");
        assertThat(result.waiting()).isFalse();
        assertThat(result.message()).contains("\"data\"", "spec.dataset.pvc.claimName", "namespace ns");
    }

    @Test
    void pendingClaimWaitsUnlessItBindsOnFirstConsumer() {
        Map<String, String> pending = Map.of("models", "Bound", "data", "Bound", "outputs", "Pending");
        ValidationResult immediate = validate(Fixtures.job("ns", "qwen"), pending, Optional.of("Immediate"), List.of());
        assertThat(immediate.reason()).isEqualTo("PvcNotBound");
        assertThat(immediate.waiting()).isTrue();
        assertThat(validate(Fixtures.job("ns", "qwen"), pending, Optional.of("WaitForFirstConsumer"), List.of()).valid()).isTrue();
    }

    @Test
    void lostClaimNeedsAction() {
        ValidationResult lost = validate(Fixtures.job("ns", "qwen"), Map.of("models", "Lost", "data", "Bound", "outputs", "Bound"),
                Optional.empty(), List.of());
        assertThat(lost.reason()).isEqualTo("PvcLost");
        assertThat(lost.waiting()).isFalse();
    }

    @Test
    void namesThatCannotBecomeWorkerHostnamesAreRejected() {
        assertThat(validate(Fixtures.job("ns", "a".repeat(48)), ALL_BOUND, Optional.empty(), List.of()).reason()).isEqualTo("InvalidName");
        assertThat(validate(Fixtures.job("ns", "qwen.v2"), ALL_BOUND, Optional.empty(), List.of()).reason()).isEqualTo("InvalidName");
        assertThat(validate(Fixtures.job("ns", "7b-run"), ALL_BOUND, Optional.empty(), List.of()).reason()).isEqualTo("InvalidName");
        assertThat(validate(Fixtures.job("ns", "a".repeat(47)), ALL_BOUND, Optional.empty(), List.of()).valid()).isTrue();
    }

    @Test
    void overlappingOutputOfAnEarlierUnfinishedJobBlocks() {
        FineTuneJob mine = Fixtures.job("ns", "b-job");
        mine.getMetadata().setCreationTimestamp("2026-01-02T00:00:00Z");
        FineTuneJob older = Fixtures.job("ns", "a-job");
        older.getSpec().getOutput().setPvc(new PvcPath("outputs", "runs"));   // parent of runs/b-job
        ValidationResult result = validate(mine, ALL_BOUND, Optional.empty(), List.of(older));
        assertThat(result.reason()).isEqualTo("OutputPathInUse");
        assertThat(result.message()).contains("\"a-job\"");

        older.setStatus(new FineTuneJobStatus());
        older.getStatus().setPhase(Phase.Succeeded);
        assertThat(validate(mine, ALL_BOUND, Optional.empty(), List.of(older)).valid()).isTrue();
    }

    @Test
    void twoNewJobsOnOnePathDoNotWaitForEachOther() {
        FineTuneJob a = Fixtures.job("ns", "a");
        FineTuneJob b = Fixtures.job("ns", "b");
        b.getSpec().getOutput().getPvc().setPath(a.getSpec().getOutput().getPvc().getPath());
        assertThat(validate(a, ALL_BOUND, Optional.empty(), List.of(a, b)).valid()).isTrue();
        assertThat(validate(b, ALL_BOUND, Optional.empty(), List.of(a, b)).reason()).isEqualTo("OutputPathInUse");
    }

    @Test
    void siblingPathsDoNotOverlap() {
        assertThat(JobValidator.overlaps(new PvcPath("o", "runs/a"), new PvcPath("o", "runs/ab"))).isFalse();
        assertThat(JobValidator.overlaps(new PvcPath("o", "runs/a"), new PvcPath("o", "./runs/a/"))).isTrue();
        assertThat(JobValidator.overlaps(new PvcPath("o", "runs/a"), new PvcPath("p", "runs/a"))).isFalse();
    }

    @Test
    void multiWorkerGangsNeedClaimsSharedAcrossNodes() {
        FineTuneJob job = Fixtures.job("ns", "qwen"); // 2 workers
        Function<String, Optional<PersistentVolumeClaim>> rwoOutput = name -> {
            PersistentVolumeClaim pvc = Fixtures.pvc("ns", name, "Bound");
            if (name.equals("outputs")) {
                pvc.getSpec().setAccessModes(List.of("ReadWriteOnce"));
            }
            if (name.equals("models")) {
                pvc.getSpec().setAccessModes(List.of("ReadOnlyMany"));
            }
            return Optional.of(pvc);
        };
        ValidationResult result = JobValidator.validate(job, rwoOutput, sc -> Optional.empty(), List.of());
        assertThat(result.reason()).isEqualTo("PvcAccessMode");
        assertThat(result.message()).contains("\"outputs\"", "ReadWriteOnce", "ReadWriteMany", "workers: 1");
        job.getSpec().getResources().setWorkers(1);
        assertThat(JobValidator.validate(job, rwoOutput, sc -> Optional.empty(), List.of()).valid()).isTrue();
    }
}
