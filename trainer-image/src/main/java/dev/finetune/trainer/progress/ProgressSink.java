package dev.finetune.trainer.progress;

import dev.finetune.api.trainer.ProgressReport;

/**
 * Where rank 0 publishes its {@link ProgressReport}s. Each report is complete and replaces the last,
 * so a sink may drop or coalesce reports; it must never throw into the training loop (a failed
 * publish is logged and retried with the next report).
 */
public interface ProgressSink extends AutoCloseable {

    void publish(ProgressReport report);

    @Override
    default void close() {}
}
