package dev.finetune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminationLogTest {

    @TempDir
    Path tmp;

    static ProgressReport failed(String message) {
        return new ProgressReport(1, 7, 2, TrainerState.FAILED, null, List.of(), null, null,
                Failure.of(FailureReason.BAD_DATA, message));
    }

    @Test
    void aLongFailureMessageIsShortenedSoTheMessageStillParses() throws Exception {
        Path log = Files.createFile(tmp.resolve("termination-log"));
        String message = "record 12: \"quoted\" text\n".repeat(400); // escapes grow in JSON
        TerminationLog.write(log, failed(message));
        assertThat(Files.size(log)).isLessThanOrEqualTo(ProgressReport.TERMINATION_MESSAGE_LIMIT);
        ProgressReport read = TerminationLog.read(log).orElseThrow();
        assertThat(read.sequence()).isEqualTo(7);
        assertThat(read.failure().reason()).isEqualTo(FailureReason.BAD_DATA);
        assertThat(read.failure().message()).startsWith("record 12: \"quoted\"").endsWith("...");
    }

    @Test
    void nothingIsWrittenWhereTheKubeletMadeNoFile() {
        Path log = tmp.resolve("absent");
        TerminationLog.write(log, failed("x"));
        assertThat(log).doesNotExist();
        assertThat(TerminationLog.read(log)).isEmpty();
    }
}
