package dev.finetune.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.operator.status.Conditions.Desired;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final Instant T1 = Instant.parse("2026-01-01T01:00:00Z");

    @Test
    void lastTransitionTimeIsKeptUnlessTheStatusFlips() {
        List<Condition> first = Conditions.merge(List.of(), List.of(
                Desired.isFalse(ConditionType.TRAINING, "Initializing", "starting"),
                Desired.isTrue(ConditionType.VALIDATED, "Valid", "ok")), 1, T0);
        List<Condition> second = Conditions.merge(first, List.of(
                Desired.isTrue(ConditionType.TRAINING, "Training", "epoch 1"),
                Desired.isTrue(ConditionType.VALIDATED, "Valid", "still ok")), 2, T1);
        Condition training = Conditions.find(second, ConditionType.TRAINING).orElseThrow();
        Condition validated = Conditions.find(second, ConditionType.VALIDATED).orElseThrow();
        assertThat(training.getLastTransitionTime()).isEqualTo("2026-01-01T01:00:00Z");
        assertThat(validated.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(validated.getMessage()).isEqualTo("still ok");
        assertThat(validated.getObservedGeneration()).isEqualTo(2L);
    }

    @Test
    void conditionsAreListedInTheDocumentedOrder() {
        List<Condition> merged = Conditions.merge(null, List.of(
                Desired.isFalse(ConditionType.FAILED, "NoFailure", "-"),
                Desired.isTrue(ConditionType.READY, "Training", "-"),
                Desired.isFalse(ConditionType.STALLED, "Training", "-")), 1, T0);
        assertThat(merged).extracting(Condition::getType).containsExactly("Ready", "Stalled", "Failed");
    }
}
