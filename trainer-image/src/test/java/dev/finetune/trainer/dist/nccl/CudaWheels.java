package dev.finetune.trainer.dist.nccl;

import java.nio.file.Path;

/** Where src/test/fetch-cuda-libs.sh caches the libraries of NVIDIA's pip wheels (same defaults as the script). */
public final class CudaWheels {

    private CudaWheels() {}

    public static Path root() {
        String explicit = System.getenv("FINETUNE_CUDA_LIBS_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("finetune/cuda-libs");
    }

    /** libnccl.so.2 of nvidia-nccl-cu12 2.26.2, the NCCL PyTorch 2.7.1 pins. */
    public static Path nccl() {
        return root().resolve("nvidia-nccl-cu12@2.26.2/libnccl.so.2");
    }

    /** libcudart.so.12 of nvidia-cuda-runtime-cu12 12.8.57 (CUDA 12.8, the trainer image's flavour). */
    public static Path cudart() {
        return root().resolve("nvidia-cuda-runtime-cu12@12.8.57/libcudart.so.12");
    }
}
