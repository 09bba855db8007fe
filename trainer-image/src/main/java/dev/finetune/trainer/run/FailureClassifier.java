package dev.finetune.trainer.run;

import ai.djl.engine.EngineException;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.dist.CommunicationException;
import dev.finetune.trainer.model.ModelFormatException;
import dev.finetune.trainer.safetensors.SafetensorsException;
import dev.finetune.trainer.train.TrainingException;
import java.util.List;

/**
 * Why a run failed, from the type of what it threw: each failure the trainer can name has its own exception
 * type, so classifying is a match on types; anything else is INTERNAL (a bug to report).
 *
 * <p>One kind of failure has no type of its own: DJL turns every error of libtorch, its allocator's
 * {@code c10::OutOfMemoryError} included, into an {@link EngineException} carrying only the error's text
 * (docs/djl.md, "Errors from libtorch"). An engine exception is therefore out of memory when its text is
 * one of the allocators' out-of-memory messages.
 */
public final class FailureClassifier {

    /** What libtorch's CPU and CUDA allocators say when they cannot allocate. */
    static final List<String> ALLOCATOR_OUT_OF_MEMORY = List.of("out of memory", "can't allocate memory",
            "not enough memory", "CUDA out of memory");

    /** A failure's reason and the message to report. */
    public record Classified(FailureReason reason, String message) {}

    private FailureClassifier() {}

    public static Classified classify(Throwable e) {
        String message = String.valueOf(e.getMessage());
        return switch (e) {
            case TrainingException t -> new Classified(t.reason(), message);
            case CommunicationException c -> new Classified(FailureReason.COMMUNICATION, message);
            case OutputWriteException o when o.volumeFull() -> new Classified(FailureReason.OUTPUT_VOLUME_FULL, message);
            case OutputWriteException o -> new Classified(FailureReason.OUTPUT_UNWRITABLE, message);
            // the message already ends with "(fix: <hint>)"
            case DatasetException d -> new Classified(FailureReason.BAD_DATA, message);
            case ModelFormatException m -> new Classified(FailureReason.BAD_MODEL, message);
            case SafetensorsException s -> new Classified(FailureReason.BAD_MODEL, message);
            case IllegalArgumentException i -> new Classified(FailureReason.BAD_CONFIG, message);
            case OutOfMemoryError o -> new Classified(FailureReason.OUT_OF_MEMORY, "Java heap exhausted: " + message);
            case EngineException n when isAllocatorOutOfMemory(message) -> new Classified(FailureReason.OUT_OF_MEMORY, message);
            default -> new Classified(FailureReason.INTERNAL, e.getClass().getSimpleName() + ": " + message);
        };
    }

    private static boolean isAllocatorOutOfMemory(String message) {
        return ALLOCATOR_OUT_OF_MEMORY.stream().anyMatch(message::contains);
    }
}
