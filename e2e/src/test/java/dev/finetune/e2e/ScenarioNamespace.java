package dev.finetune.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.opentest4j.TestAbortedException;

/**
 * A scenario's place on the cluster, registered once per scenario class
 * ({@code @RegisterExtension static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims(...)}):
 * <ul>
 *   <li>before the class's {@code @BeforeAll} methods: the shared {@link E2eCluster} (see {@link E2eExtension}) and
 *       the scenario's {@link TestNamespace}, made by the factory given (a namespace left by an earlier run is
 *       deleted first);</li>
 *   <li>on a failed step, or a failed {@code @BeforeAll}: the namespace's diagnostics printed (status, Events, pod logs,
 *       the operator's log) and the namespace kept for a person to look at; the scenario's later steps are aborted
 *       (they build on the failed one);</li>
 *   <li>after a clean run: the namespace deleted, after the class's {@code @AfterAll} methods unless one of them
 *       deleted it first ({@link #deleteNamespaceUnlessFailed()}).</li>
 * </ul>
 */
final class ScenarioNamespace implements BeforeAllCallback, BeforeEachCallback, TestWatcher, AfterAllCallback {

    private final Function<E2eCluster, TestNamespace> factory;
    private volatile E2eCluster cluster;
    private volatile TestNamespace namespace;
    private volatile boolean failed;
    private volatile boolean deleted;

    private ScenarioNamespace(Function<E2eCluster, TestNamespace> factory) {
        this.factory = factory;
    }

    /** The namespace made by {@code factory} on the shared cluster. */
    static ScenarioNamespace of(Function<E2eCluster, TestNamespace> factory) {
        return new ScenarioNamespace(factory);
    }

    /** An empty namespace (restricted Pod Security, default-deny NetworkPolicy). */
    static ScenarioNamespace empty(String name) {
        return of(cluster -> TestNamespace.create(cluster.client(), name));
    }

    /** The namespace with these ReadWriteOnce claims, nothing in them yet. */
    static ScenarioNamespace withClaims(String name, String... claims) {
        return of(cluster -> {
            TestNamespace ns = TestNamespace.create(cluster.client(), name);
            ns.claims(claims);
            return ns;
        });
    }

    /** The operator installed; the namespace with the quickstart's model, data and outputs claims filled. */
    static ScenarioNamespace withQuickstartAssets(String name) {
        return of(cluster -> TestNamespace.withQuickstartAssets(cluster, name));
    }

    E2eCluster cluster() {
        return cluster;
    }

    KubernetesClient client() {
        return cluster.client();
    }

    TestNamespace ns() {
        return namespace;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = E2eExtension.cluster(context);
        namespace = factory.apply(cluster);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (failed) {
            throw new TestAbortedException("an earlier step of this scenario failed");
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        keepForInspection();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getExecutionException().isPresent()) {
            keepForInspection();
        }
        deleteNamespaceUnlessFailed();
    }

    /** Deletes the namespace now, unless a step failed; for scenarios that must undo cluster-wide changes after it. */
    void deleteNamespaceUnlessFailed() {
        if (!failed && !deleted && namespace != null) {
            deleted = true;
            namespace.delete();
        }
    }

    private void keepForInspection() {
        if (failed) {
            return;
        }
        failed = true;
        if (namespace != null && cluster != null) {
            System.out.println(namespace.diagnostics(cluster));
            System.out.println("[e2e] namespace " + namespace.name() + " kept for inspection");
        }
    }
}
