package dev.finetune.trainer.dist.nccl;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** What the FFM bindings of NCCL and the CUDA runtime share. */
final class NativeCalls {

    private NativeCalls() {}

    /**
     * A downcall handle's {@code invokeExact} declares {@code Throwable}: runtime exceptions and errors pass
     * through unchanged, anything else (which a native call never throws) is wrapped.
     */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("native call failed", t);
    }

    /** The NUL-terminated string a native function returned, or empty for NULL. */
    static Optional<String> cString(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return Optional.empty();
        }
        return Optional.of(pointer.reinterpret(Long.MAX_VALUE).getString(0));
    }
}
