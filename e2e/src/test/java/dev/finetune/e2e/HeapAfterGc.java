package dev.finetune.e2e;

import com.sun.tools.attach.VirtualMachine;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs inside the operator's container, not in the test JVM ({@link OperatorProbe} copies this class there): attaches
 * to the operator's JVM (PID 1, the same user), runs a full collection ({@code jcmd GC.run}; the image has no jcmd)
 * and prints the heap in use after it, in bytes, from {@code GC.heap_info}: the operator's retained heap.
 *
 * <p>Usage: {@code java --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED -cp DIR dev.finetune.e2e.HeapAfterGc PID}
 */
public final class HeapAfterGc {

    /** A generation's line of GC.heap_info ("DefNew     total 39296K, used 14101K [...", "Tenured ...", "garbage-first heap ..."). */
    private static final Pattern GENERATION = Pattern.compile("(?m)^(\\S[^\\n]*?)\\s+total \\d+K, used (\\d+)K");

    private HeapAfterGc() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: HeapAfterGc PID");
            System.exit(2);
        }
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        try {
            jcmd(vm, "GC.run");
            System.out.println(usedHeapBytes(jcmd(vm, "GC.heap_info")));
        } finally {
            vm.detach();
        }
    }

    /** The heap in use that GC.heap_info reports: the sum of its generations' "used", without Metaspace. */
    static long usedHeapBytes(String heapInfo) {
        Matcher m = GENERATION.matcher(heapInfo);
        long kib = 0;
        boolean found = false;
        while (m.find()) {
            String name = m.group(1).strip();
            if (!name.startsWith("Metaspace") && !name.startsWith("class space")) {
                kib += Long.parseLong(m.group(2));
                found = true;
            }
        }
        if (!found) {
            throw new IllegalStateException("no generation with 'total ...K, used ...K' in GC.heap_info:\n" + heapInfo);
        }
        return kib * 1024;
    }

    /** HotSpotVirtualMachine.executeJCmd, the call jcmd makes (public, in a package jdk.attach does not export). */
    private static String jcmd(VirtualMachine vm, String command) throws Exception {
        Method execute = vm.getClass().getMethod("executeJCmd", String.class);
        try (InputStream out = (InputStream) execute.invoke(vm, command)) {
            return new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
