package dev.finetune.trainer.hub;

/** Receives how far a download is: bytes in the cache (verified or in flight) out of the bytes needed. */
@FunctionalInterface
public interface TransferProgress {

    TransferProgress NONE = (done, total) -> { };

    void update(long bytesDone, long bytesTotal);
}
