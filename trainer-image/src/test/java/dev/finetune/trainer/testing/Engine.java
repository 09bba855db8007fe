package dev.finetune.trainer.testing;

import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.script.Kernels;

/** One engine manager and one compiled kernel set shared by the tests of a JVM. */
public final class Engine {

    private static NDManager manager;
    private static Kernels kernels;

    private Engine() {}

    public static synchronized NDManager manager() {
        if (manager == null) {
            manager = NDManager.newBaseManager();
            kernels = Kernels.load(manager);
        }
        return manager;
    }

    public static synchronized Kernels kernels() {
        manager();
        return kernels;
    }
}
