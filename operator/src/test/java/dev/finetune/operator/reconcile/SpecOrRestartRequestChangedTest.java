package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpecOrRestartRequestChangedTest {

    static final SpecOrRestartRequestChanged FILTER = new SpecOrRestartRequestChanged();

    static FineTuneJob job(long generation, String restartRequest) {
        FineTuneJob job = Fixtures.job("ns", "run");
        job.getMetadata().setGeneration(generation);
        if (restartRequest != null) {
            job.getMetadata().setAnnotations(Map.of(FineTuneJob.RESTART_REQUESTED_AT, restartRequest));
        }
        return job;
    }

    @Test
    void aNewRestartRequestStartsARoundThoughTheGenerationStays() {
        assertThat(FILTER.accept(job(3, "2026-12-06T20:15:00Z"), job(3, null))).isTrue();
        assertThat(FILTER.accept(job(3, "2026-12-06T20:16:00Z"), job(3, "2026-12-06T20:15:00Z"))).isTrue();
    }

    @Test
    void aSpecChangeStartsARoundAndTheOperatorsOwnStatusWriteDoesNot() {
        assertThat(FILTER.accept(job(4, null), job(3, null))).isTrue();
        FineTuneJob written = job(3, "2026-12-06T20:15:00Z");
        written.setStatus(new FineTuneJobStatus());
        written.getStatus().setPhase(Phase.Training);
        assertThat(FILTER.accept(written, job(3, "2026-12-06T20:15:00Z"))).isFalse();
    }

    @Test
    void deletionStartsARound() {
        FineTuneJob deleted = job(3, null);
        deleted.getMetadata().setDeletionTimestamp("2026-12-06T20:15:00Z");
        assertThat(FILTER.accept(deleted, job(3, null))).isTrue();
    }
}
