package dev.finetune.trainer.init;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.SourceDownload;
import dev.finetune.trainer.hub.TransferProgress;
import dev.finetune.trainer.progress.ProgressSink;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What rank 0's initializer sends the operator, and how often: each source's first and last count, else every interval. */
class DownloadReporterTest {

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        void advanceMillis(long millis) {
            now = now.plusMillis(millis);
        }
    }

    private final List<ProgressReport> sent = new ArrayList<>();
    private boolean closed;
    private final ProgressSink sink = new ProgressSink() {
        @Override
        public void publish(ProgressReport report) {
            sent.add(report);
        }

        @Override
        public void close() {
            closed = true;
        }
    };

    private static List<String> counts(ProgressReport report) {
        return report.downloadList().stream().map(d -> d.input() + " " + d.bytesDone() + "/" + d.bytesTotal()).toList();
    }

    @Test
    void sendsEachSourcesFirstAndLastCountAndOtherwiseAtMostOncePerInterval() {
        TestClock clock = new TestClock();
        DownloadReporter reporter = new DownloadReporter(sink, 2, 2_000, clock);
        TransferProgress model = reporter.source("model", "hf://org/m@main");

        model.update(0, 1000);          // first: sent
        clock.advanceMillis(500);
        model.update(100, 1000);        // within the interval: held back
        clock.advanceMillis(1600);
        model.update(300, 1000);        // 2.1 s after the last: sent
        clock.advanceMillis(100);
        model.update(1000, 1000);       // complete: sent at once
        model.update(1000, 1000);       // the same again: not sent
        TransferProgress dataset = reporter.source("dataset", "hf://datasets/org/d@v1");
        dataset.update(0, 50);          // the dataset's first: sent, with the model kept
        reporter.close();               // the latest, once more, then the sink closes

        assertThat(sent.stream().map(DownloadReporterTest::counts).toList()).containsExactly(
                List.of("model 0/1000"),
                List.of("model 300/1000"),
                List.of("model 1000/1000"),
                List.of("model 1000/1000", "dataset 0/50"),
                List.of("model 1000/1000", "dataset 0/50"));
        assertThat(sent).allSatisfy(r -> {
            assertThat(r.attempt()).isEqualTo(2);
            assertThat(r.state()).isEqualTo(TrainerState.INITIALIZING);
        });
        assertThat(sent.stream().map(ProgressReport::sequence).toList()).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(sent.get(1).downloadList().getFirst().updated()).isEqualTo("2026-01-01T00:00:02.100Z");
        assertThat(closed).isTrue();
    }

    @Test
    void aSourceThatFailsBeforeItsFirstCountIsNotListed() {
        DownloadReporter reporter = new DownloadReporter(sink, 1, 2_000, new TestClock());
        reporter.source("model", "hf://org/m@main").update(10, 10);
        reporter.source("dataset", "hf://datasets/org/private@main"); // 401 before any count

        reporter.close();

        assertThat(sent.getLast().downloadList()).extracting(SourceDownload::input).containsExactly("model");
    }
}
