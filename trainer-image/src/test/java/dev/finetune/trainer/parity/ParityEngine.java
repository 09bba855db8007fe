package dev.finetune.trainer.parity;

import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.script.Kernels;

/** One engine manager and one compiled kernel set for the parity tests of a JVM. */
final class ParityEngine {

    private static NDManager manager;
    private static Kernels kernels;

    private ParityEngine() {}

    static synchronized NDManager manager() {
        if (manager == null) {
            manager = NDManager.newBaseManager();
            kernels = Kernels.load(manager);
        }
        return manager;
    }

    static synchronized Kernels kernels() {
        manager();
        return kernels;
    }
}
