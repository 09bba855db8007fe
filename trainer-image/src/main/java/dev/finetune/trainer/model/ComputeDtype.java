package dev.finetune.trainer.model;

import ai.djl.ndarray.types.DataType;
import dev.finetune.api.v1alpha1.Precision;
import java.util.Locale;

/**
 * The one place that maps a precision to an engine dtype. Everything else passes the
 * {@link DataType} along; a bytecode test keeps other code from naming bf16 (DJL aborts on some bf16 paths).
 */
public final class ComputeDtype {

    private ComputeDtype() {}

    /** The dtype of the spec's {@code training.precision}. */
    public static DataType of(Precision precision) {
        return switch (precision) {
            case FP32 -> DataType.FLOAT32;
            case BF16 -> DataType.BFLOAT16;
            case FP16 -> DataType.FLOAT16;
        };
    }

    /** {@code fp32}, {@code bf16} or {@code fp16} (also {@code float32}, {@code bfloat16}, {@code float16}). */
    public static DataType parse(String precision) {
        return switch (precision.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> DataType.FLOAT32;
            case "bf16", "bfloat16" -> DataType.BFLOAT16;
            case "fp16", "float16" -> DataType.FLOAT16;
            default -> throw new IllegalArgumentException("precision must be fp32, bf16 or fp16, not " + precision);
        };
    }
}
