package dev.finetune.nativecalls;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the calls made into DJL's JNI ({@code ai.djl.pytorch.jni.PyTorchLibrary}'s native methods), by
 * method name. {@link NativeCallAgent} makes every call site count itself here.
 */
public final class NativeCalls {

    /** The JNI methods that copy tensor values into Java memory: on a GPU each one waits for the device. */
    public static final java.util.Set<String> HOST_READS = java.util.Set.of("torchDataPtr", "torchDirectByteBuffer");

    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

    private NativeCalls() {}

    /** Called before each JNI call by the rewritten call sites. */
    public static void count(String method) {
        COUNTS.computeIfAbsent(method, k -> new LongAdder()).increment();
    }

    public static Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        COUNTS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
