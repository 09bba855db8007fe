package dev.finetune.operator.reconcile;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.util.Map;
import java.util.Objects;

/**
 * Which updates of a FineTuneJob start a round: a new generation (spec), deletion, or a new value of the
 * restart-requested-at annotation. The operator's own status writes do not. JOSDK's generation-aware filter
 * would drop the annotation (metadata changes leave the generation alone), so the reconciler turns it off and
 * this filter keeps what it did.
 */
public class SpecOrRestartRequestChanged implements OnUpdateFilter<FineTuneJob> {

    @Override
    public boolean accept(FineTuneJob updated, FineTuneJob old) {
        Long before = old.getMetadata().getGeneration();
        Long after = updated.getMetadata().getGeneration();
        return before == null || after == null || after > before
                || updated.isMarkedForDeletion()
                || !Objects.equals(restartRequest(updated), restartRequest(old));
    }

    static String restartRequest(FineTuneJob job) {
        Map<String, String> annotations = job.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(FineTuneJob.RESTART_REQUESTED_AT);
    }
}
