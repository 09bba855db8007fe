package dev.finetune.e2e;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.opentest4j.TestAbortedException;

/**
 * On a failed scenario step: prints the namespace's diagnostics (status, Events, pod logs, the operator's log) and
 * keeps the namespace for a person to look at; the scenario's later steps are skipped (they build on the failed one).
 * After a clean run the namespace is deleted.
 */
final class KeepOnFailure implements TestWatcher, BeforeEachCallback {

    private final Supplier<TestNamespace> namespace;
    private final Supplier<E2eCluster> cluster;
    private volatile boolean failed;

    KeepOnFailure(Supplier<TestNamespace> namespace, Supplier<E2eCluster> cluster) {
        this.namespace = namespace;
        this.cluster = cluster;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (failed) {
            throw new TestAbortedException("an earlier step of this scenario failed");
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        failed = true;
        TestNamespace ns = namespace.get();
        if (ns != null && cluster.get() != null) {
            System.out.println(ns.diagnostics(cluster.get()));
            System.out.println("[e2e] namespace " + ns.name() + " kept for inspection");
        }
    }

    void deleteNamespaceUnlessFailed() {
        TestNamespace ns = namespace.get();
        if (!failed && ns != null) {
            ns.delete();
        }
    }
}
