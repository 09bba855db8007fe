package dev.finetune.operator.status;

import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.status.Conditions.Desired;
import java.util.ArrayList;
import java.util.List;

/** Maps a {@link Situation} to the full set of conditions, kstatus ones included. Pure. */
public final class ConditionsMapper {

    private ConditionsMapper() {
    }

    public static List<Desired> map(Situation s) {
        List<Desired> out = new ArrayList<>();
        Phase phase = s.phase();
        boolean stalled = phase == Phase.Failed || s.stalledReason() != null;
        String stalledReason = phase == Phase.Failed ? s.outcomeReason() : s.stalledReason();
        String stalledMessage = phase == Phase.Failed ? s.outcomeMessage() : s.stalledMessage();
        boolean ready = switch (phase) {
            case Succeeded, Suspended -> true;
            case Training -> "True".equals(s.workersReady().status());
            default -> false;
        };
        if (ready) {
            out.add(Desired.isTrue(ConditionType.READY, s.outcomeReason(), s.outcomeMessage()));
            out.add(Desired.isFalse(ConditionType.RECONCILING, s.outcomeReason(), "Nothing left to do until something changes."));
        } else if (stalled) {
            out.add(Desired.isFalse(ConditionType.READY, stalledReason, stalledMessage));
            out.add(Desired.isFalse(ConditionType.RECONCILING, stalledReason, "The operator cannot make progress: " + stalledMessage));
        } else {
            out.add(Desired.isFalse(ConditionType.READY, s.outcomeReason(), s.outcomeMessage()));
            out.add(Desired.isTrue(ConditionType.RECONCILING, s.outcomeReason(), s.outcomeMessage()));
        }
        out.add(stalled ? Desired.isTrue(ConditionType.STALLED, stalledReason, stalledMessage)
                : Desired.isFalse(ConditionType.STALLED, s.outcomeReason(), "The job is not stuck."));
        out.add(Desired.of(ConditionType.VALIDATED, s.validation().valid(), s.validation().reason(), s.validation().message()));
        out.add(s.workersReady());
        out.add(s.training());
        out.add(checkpointed(s.checkpoint()));
        out.add(s.suspended()
                ? Desired.isTrue(ConditionType.SUSPENDED, "SuspendedBySpec",
                        "spec.suspend is true: no workers run; progress, history and checkpoints are kept; "
                                + "setting it to false resumes from the last checkpoint.")
                : Desired.isFalse(ConditionType.SUSPENDED, "NotSuspended", "spec.suspend is false."));
        out.add(switch (phase) {
            case Succeeded -> Desired.isTrue(ConditionType.SUCCEEDED, s.outcomeReason(), s.outcomeMessage());
            case Failed -> Desired.isFalse(ConditionType.SUCCEEDED, s.outcomeReason(), s.outcomeMessage());
            default -> Desired.unknown(ConditionType.SUCCEEDED, "NotFinished", "Training has not finished.");
        });
        out.add(s.failed());
        return out;
    }

    static Desired checkpointed(CheckpointRef checkpoint) {
        if (checkpoint == null) {
            return Desired.isFalse(ConditionType.CHECKPOINTED, "NoCheckpoint",
                    "No resumable checkpoint yet: a restart now would start from the beginning.");
        }
        return Desired.isTrue(ConditionType.CHECKPOINTED, "CheckpointSaved", "Resumable checkpoint at epoch "
                + checkpoint.epoch() + ", step " + checkpoint.step() + ": " + checkpoint.path() + ".");
    }
}
