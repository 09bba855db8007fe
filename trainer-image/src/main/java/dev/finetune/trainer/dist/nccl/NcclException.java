package dev.finetune.trainer.dist.nccl;

/** An NCCL call returned an error code ({@code ncclResult_t}); the message carries NCCL's own words. */
public class NcclException extends RuntimeException {

    private final String call;
    private final int result;

    public NcclException(String call, int result, String message) {
        super(message);
        this.call = call;
        this.result = result;
    }

    /** The NCCL function that failed, e.g. {@code ncclCommInitRank}. */
    public String call() {
        return call;
    }

    /** The {@code ncclResult_t} value (see {@link NcclLibrary#UNHANDLED_CUDA_ERROR} and the others). */
    public int result() {
        return result;
    }

    /**
     * True when the failure lies with the network or a peer (system, remote or internal error), which a
     * restart of the gang may cure; false for CUDA errors and misuse, which it will not.
     */
    public boolean peerOrNetwork() {
        return result == NcclLibrary.SYSTEM_ERROR || result == NcclLibrary.REMOTE_ERROR
                || result == NcclLibrary.INTERNAL_ERROR;
    }
}
