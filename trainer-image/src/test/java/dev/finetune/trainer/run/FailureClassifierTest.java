package dev.finetune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.EngineException;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.dist.CommunicationException;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.train.TrainingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class FailureClassifierTest {

    static FailureClassifier.Classified classify(Throwable e) {
        return FailureClassifier.classify(e);
    }

    @Test
    void aTrainingExceptionCarriesItsOwnReason() {
        assertThat(classify(new TrainingException(FailureReason.NAN_LOSS, "train loss is NaN at step 3")))
                .isEqualTo(new FailureClassifier.Classified(FailureReason.NAN_LOSS, "train loss is NaN at step 3"));
        assertThat(classify(new TrainingException(FailureReason.INTERRUPTED, "stopped")).reason())
                .isEqualTo(FailureReason.INTERRUPTED);
    }

    @Test
    void eachFailureTypeHasItsReason() {
        assertThat(classify(new CommunicationException("peer 1 closed", null)).reason()).isEqualTo(FailureReason.COMMUNICATION);
        DatasetException bad = new DatasetException(SourceLocation.ofFile("d.jsonl"), "messages", "missing", "add it");
        assertThat(classify(bad)).isEqualTo(new FailureClassifier.Classified(FailureReason.BAD_DATA, bad.getMessage()));
        assertThat(classify(new ModelFormatException("no config.json")).reason()).isEqualTo(FailureReason.BAD_MODEL);
        assertThat(classify(new SafetensorsException("truncated header")).reason()).isEqualTo(FailureReason.BAD_MODEL);
        assertThat(classify(new IllegalArgumentException("lora.rank must be positive")).reason())
                .isEqualTo(FailureReason.BAD_CONFIG);
        assertThat(classify(new NumberFormatException("RANK=x")).reason()).isEqualTo(FailureReason.BAD_CONFIG);
    }

    @Test
    void javaHeapExhaustionIsOutOfMemory() {
        assertThat(classify(new OutOfMemoryError("Java heap space")))
                .isEqualTo(new FailureClassifier.Classified(FailureReason.OUT_OF_MEMORY, "Java heap exhausted: Java heap space"));
    }

    @Test
    void libtorchAllocatorFailuresAreOutOfMemory() {
        for (String message : new String[] {"CUDA out of memory. Tried to allocate 2.00 GiB",
                "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes",
                "DefaultCPUAllocator: can't allocate memory: you tried to allocate 8589934592 bytes"}) {
            assertThat(classify(new EngineException(message)))
                    .isEqualTo(new FailureClassifier.Classified(FailureReason.OUT_OF_MEMORY, message));
        }
    }

    @Test
    void anythingElseIsInternalAndNamesItsType() {
        assertThat(classify(new EngineException("expected scalar type Long but found Int")))
                .isEqualTo(new FailureClassifier.Classified(FailureReason.INTERNAL,
                        "EngineException: expected scalar type Long but found Int"));
        // the allocator's words in a failure that is not libtorch's do not make it one
        assertThat(classify(new UncheckedIOException(new IOException("out of memory"))).reason())
                .isEqualTo(FailureReason.INTERNAL);
        assertThat(classify(new IllegalStateException((String) null)))
                .isEqualTo(new FailureClassifier.Classified(FailureReason.INTERNAL, "IllegalStateException: null"));
    }
}
