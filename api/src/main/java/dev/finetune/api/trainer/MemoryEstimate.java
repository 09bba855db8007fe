package dev.finetune.api.trainer;

/**
 * How much memory one worker process needs for the run, estimated by the trainer once the model is loaded,
 * so that a worker killed for its memory limit (OOMKilled) fails with a figure to request.
 *
 * @param bytes the estimated peak: weights, trainable parameters with gradients and AdamW moments, activations
 *              and logits of one micro-batch, and the runtime's baseline
 * @param breakdown the terms in words, e.g. "weights 1.1 GiB (bf16) + LoRA and AdamW 61 MiB + ..."
 */
public record MemoryEstimate(long bytes, String breakdown) {

    /** Bytes in binary units with one decimal: {@code 512 MiB}, {@code 3.4 GiB}. */
    public static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(java.util.Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
        }
        return String.format(java.util.Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }
}
