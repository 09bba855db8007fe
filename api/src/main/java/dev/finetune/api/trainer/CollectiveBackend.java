package dev.finetune.api.trainer;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How the ranks of a gang sum their gradients. */
public enum CollectiveBackend {
    /** A ring over TCP sockets, for CPU workers. */
    @JsonProperty("tcp") TCP,
    /** NVIDIA's collectives on the GPUs' memory, one process per GPU. */
    @JsonProperty("nccl") NCCL;

    /** NCCL when the job asks for GPUs, else TCP. */
    public static CollectiveBackend forGpus(int gpusPerWorker) {
        return gpusPerWorker > 0 ? NCCL : TCP;
    }
}
