package dev.finetune.trainer.dist;

/**
 * The machine cannot run a GPU process: libnccl or libcudart missing, no CUDA driver, fewer GPUs than
 * {@code LOCAL_RANK} needs, or a CPU-only libtorch. Permanent for this image and node: retrying the same
 * pod cannot help, so the run ends with BAD_CONFIG and a message that says what is missing.
 */
public class GpuEnvironmentException extends RuntimeException {
    public GpuEnvironmentException(String message) {
        super(message);
    }

    public GpuEnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }
}
