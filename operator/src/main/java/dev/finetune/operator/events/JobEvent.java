package dev.finetune.operator.events;

/**
 * A Kubernetes Event about a FineTuneJob.
 *
 * @param key identifies the occurrence (e.g. "eval/3/1200"): the same key is never recorded twice for a job,
 *            across operator restarts too
 */
public record JobEvent(Type type, String reason, String message, String key) {

    public enum Type {
        Normal,
        Warning
    }

    public static JobEvent normal(String reason, String key, String message) {
        return new JobEvent(Type.Normal, reason, message, key);
    }

    public static JobEvent warning(String reason, String key, String message) {
        return new JobEvent(Type.Warning, reason, message, key);
    }
}
