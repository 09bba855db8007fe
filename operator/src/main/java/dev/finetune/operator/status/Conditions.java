package dev.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Pure condition bookkeeping: one condition per type, lastTransitionTime kept unless the status flips. */
public final class Conditions {

    private Conditions() {
    }

    /** A condition as the planner wants it, before timestamps. */
    public record Desired(String type, String status, String reason, String message) {

        public static Desired isTrue(String type, String reason, String message) {
            return new Desired(type, "True", reason, message);
        }

        public static Desired isFalse(String type, String reason, String message) {
            return new Desired(type, "False", reason, message);
        }

        public static Desired unknown(String type, String reason, String message) {
            return new Desired(type, "Unknown", reason, message);
        }

        public static Desired of(String type, boolean status, String reason, String message) {
            return new Desired(type, status ? "True" : "False", reason, message);
        }
    }

    /**
     * The conditions after applying {@code desired} to {@code previous}: lastTransitionTime stays when the
     * status did not change; observedGeneration is the generation being reconciled. Ordered as {@link ConditionType#ALL}.
     */
    public static List<Condition> merge(List<Condition> previous, List<Desired> desired, long generation, Instant now) {
        Map<String, Condition> before = previous == null ? Map.of()
                : previous.stream().collect(Collectors.toMap(Condition::getType, Function.identity(), (a, b) -> b));
        String nowText = now.truncatedTo(ChronoUnit.SECONDS).toString();
        List<Condition> result = new ArrayList<>();
        for (Desired d : desired) {
            String status = d.status();
            Condition old = before.get(d.type());
            String transition = old != null && Objects.equals(old.getStatus(), status) && old.getLastTransitionTime() != null
                    ? old.getLastTransitionTime() : nowText;
            result.add(new ConditionBuilder()
                    .withType(d.type())
                    .withStatus(status)
                    .withReason(d.reason())
                    .withMessage(d.message())
                    .withObservedGeneration(generation)
                    .withLastTransitionTime(transition)
                    .build());
        }
        result.sort((a, b) -> Integer.compare(order(a.getType()), order(b.getType())));
        return result;
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty() : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
    }

    private static int order(String type) {
        int index = ConditionType.ALL.indexOf(type);
        return index < 0 ? Integer.MAX_VALUE : index;
    }
}
