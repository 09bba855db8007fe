package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A FineTuneJob deployed by a live Argo CD v3.6.2 ({@link ArgoCdServer}) from a file:// git repository the test
 * creates: health Progressing with the epoch and eval loss while it trains, Suspended and back through our resource
 * actions run by the API server, a restart through the restart action (a new attempt from the checkpoint, not a
 * counted restart), Healthy on Succeeded, Synced all along; a commit that edits an immutable field fails to sync
 * with our CEL message and leaves the job as it was; a job with bad data is Degraded with the reason.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArgoCdE2E {

    private static final String APP = "ft-argocd-e2e";
    private static final String JOB = "gitops";
    private static final String BAD = "gitops-bad-data";
    /** Long enough (a few seconds an epoch) to watch it train and to suspend and restart it on the way. */
    private static final int EPOCHS = 30;

    private static E2eCluster cluster;
    private static TestNamespace ns;
    private static Path repo;
    private static GitRepo git;
    private static ArgoCdServer argocd;

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.withClaims("ft-argocd-e2e", "models", "data", "outputs");

    @BeforeAll
    static void argoCdAndAnApplication() throws IOException {
        cluster = SCENARIO.cluster();
        ns = SCENARIO.ns();
        repo = cluster.settings().repo();
        cluster.installOperator();
        // the quickstart assets, plus bad/train.jsonl: line 21 of the dataset cut short
        ns.fillAssets(cluster.settings().trainerImage(), """
                mkdir -p /mnt/data/bad
                { head -n 20 /mnt/data/quickstart/train.jsonl
                  echo '{"instruction": "Continue the sequence", "input": "3 4 5",'
                  tail -n +21 /mnt/data/quickstart/train.jsonl; } > /mnt/data/bad/train.jsonl
                """);
        Path work = repo.resolve("e2e/target/argocd-e2e");
        argocd = ArgoCdServer.up(cluster, work);

        git = GitRepo.init(work.resolve("git-" + System.currentTimeMillis()));
        writeJob(JOB, j -> ((ObjectNode) j.at("/spec/training")).put("epochs", EPOCHS));
        writeJob(BAD, j -> ((ObjectNode) j.at("/spec/dataset/pvc")).put("path", "bad/train.jsonl"));
        git.commit("two quickstart jobs");

        argocd.apply("""
                apiVersion: argoproj.io/v1alpha1
                kind: Application
                metadata: {name: %s, namespace: argocd}
                spec:
                  project: default
                  source: {repoURL: '%s', targetRevision: main, path: jobs}
                  destination: {server: 'https://kubernetes.default.svc', namespace: %s}
                  syncPolicy: {automated: {}}
                """.formatted(APP, git.url(), ns.name()));
    }

    @AfterAll
    static void cleanUp() {
        if (argocd != null) {
            argocd.down(APP);
        }
    }

    /** The quickstart job as a git manifest: no namespace (the Application's destination) and no spec.suspend. */
    private static void writeJob(String name, java.util.function.Consumer<ObjectNode> changes) throws IOException {
        ObjectNode manifest = (ObjectNode) Serialization.yamlMapper()
                .readTree(Files.readString(repo.resolve("examples/quickstart/finetunejob.yaml")));
        ((ObjectNode) manifest.path("metadata")).put("name", name);
        ((ObjectNode) manifest.at("/spec/output/pvc")).put("path", "runs/" + name);
        ((ObjectNode) manifest.at("/spec/resources")).put("cpu", TestNamespace.JOB_CPU).put("memory", "1536Mi");
        changes.accept(manifest);
        git.write("jobs/" + name + ".yaml", Serialization.yamlMapper().writeValueAsString(manifest));
    }

    private static String sync() {
        return argocd.sync(APP);
    }

    private static String awaitHealth(String job, String regex, Duration limit) {
        return argocd.awaitHealth(APP, "FineTuneJob", job, regex, limit);
    }

    @Test
    @Order(1)
    void syncsTheJobsAndShowsTrainingProgressWhileStayingSynced() {
        await("the Application synced").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ns.job(JOB) != null && ns.job(BAD) != null);
        String training = awaitHealth(JOB, "Progressing \\| Training: epoch \\d+/" + EPOCHS + ", step \\d+/\\d+, eval loss [0-9.]+.*",
                Duration.ofMinutes(8));
        System.out.println("[e2e] Argo CD while training: " + training + ", sync " + sync());
        assertThat(sync()).as("sync status while training (CRD defaults and status must not show as a diff)")
                .isEqualTo("Synced");
    }

    @Test
    @Order(3)
    void aJobWithBadDataIsDegradedWithTheReason() {
        String degraded = awaitHealth(BAD, "Degraded \\| .*bad/train.jsonl:21:.*", Duration.ofMinutes(6));
        System.out.println("[e2e] Argo CD on bad data: " + degraded);
    }

    @Test
    @Order(2)
    void suspendResumeAndRestartRunThroughArgoCdAndTakeEffect() throws Exception {
        assertThat(argocd.availableActions(APP, ns.name(), JOB)).containsExactlyInAnyOrder("suspend", "restart");
        argocd.runAction(APP, ns.name(), JOB, "suspend");
        ns.awaitField(JOB, "/status/phase", "Suspended", Duration.ofMinutes(2));
        String suspended = awaitHealth(JOB, "Suspended \\| spec.suspend is true.*", Duration.ofMinutes(1));
        System.out.println("[e2e] Argo CD after the suspend action: " + suspended + ", sync " + sync());
        assertThat(sync()).as("git does not set spec.suspend, so a suspended job is still in sync").isEqualTo("Synced");
        assertThat(argocd.availableActions(APP, ns.name(), JOB)).containsExactlyInAnyOrder("resume", "restart (disabled)");
        argocd.runAction(APP, ns.name(), JOB, "resume");
        assertThat(ns.field(JOB, "/spec/suspend")).isEqualTo("false");

        // attempt 2 trains; the restart action stops it and attempt 3 resumes from its checkpoint, not as a failure
        awaitHealth(JOB, "Progressing \\| Training: epoch \\d+/" + EPOCHS + ".*", Duration.ofMinutes(3));
        assertThat(ns.field(JOB, "/status/attempt")).isEqualTo("2");
        long restartsBefore = Long.parseLong(ns.field(JOB, "/status/restarts"));
        argocd.runAction(APP, ns.name(), JOB, "restart");
        String requested = ns.job(JOB).at("/metadata/annotations").path("finetune.dev/restart-requested-at").asText();
        assertThat(ArgoCdTool.anyRestartTime(requested)).as("the time the action wrote").isEqualTo(ArgoCdTool.ANY_TIME);
        ns.awaitField(JOB, "/status/lastRestartRequest", requested, Duration.ofMinutes(1));
        ns.awaitField(JOB, "/status/attempt", "3", Duration.ofMinutes(3));
        String resumeFrom = cluster.client().batch().v1().jobs().inNamespace(ns.name()).withName(JOB + "-attempt-3").get()
                .getMetadata().getAnnotations().get("finetune.dev/resume-from");
        System.out.println("[e2e] Argo CD restart action at " + requested + ": attempt 3 resumes from " + resumeFrom
                + ", sync " + sync());
        assertThat(resumeFrom).as("attempt 3 resumes from a checkpoint").isNotBlank();
        assertThat(ns.events(JOB)).filteredOn(e -> "RestartRequested".equals(e.getReason())).hasSize(1);
        assertThat(sync()).as("the annotation is not in git, so a restarted job is still in sync").isEqualTo("Synced");

        assertThat(ns.awaitTerminal(JOB, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        String healthy = awaitHealth(JOB, "Healthy \\| Training finished with eval loss .*", Duration.ofMinutes(1));
        System.out.println("[e2e] Argo CD after success: " + healthy + ", sync " + sync() + ", attempt "
                + ns.field(JOB, "/status/attempt") + ", restarts " + ns.field(JOB, "/status/restarts"));
        assertThat(ns.field(JOB, "/status/attempt")).as("resume started attempt 2, the restart attempt 3").isEqualTo("3");
        assertThat(Long.parseLong(ns.field(JOB, "/status/restarts"))).as("restarts counted against backoffLimit")
                .isEqualTo(restartsBefore);
        assertThat(argocd.availableActions(APP, ns.name(), JOB)).containsExactly("restart (disabled)");
        assertThat(sync()).isEqualTo("Synced");
    }

    @Test
    @Order(4)
    void aCommitEditingAnImmutableFieldFailsToSyncWithTheCelMessage() throws IOException {
        String uid = ns.job(JOB).at("/metadata/uid").asText();
        writeJob(JOB, j -> ((ObjectNode) j.at("/spec/training")).put("epochs", EPOCHS + 1));
        writeJob(BAD, j -> ((ObjectNode) j.at("/spec/dataset/pvc")).put("path", "bad/train.jsonl"));
        git.commit("five epochs");
        String message = await("the sync of the edit to fail").atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> argocd.app(APP).at("/status/operationState").toString(),
                        s -> s.contains("spec.training is immutable: a FineTuneJob is one training run"));
        System.out.println("[e2e] Argo CD sync of the immutable edit: " + argocd.app(APP).at("/status/operationState/phase").asText()
                + ": " + argocd.app(APP).at("/status/operationState/message").asText());
        assertThat(argocd.app(APP).at("/status/operationState/phase").asText()).isIn("Failed", "Error", "Running");
        assertThat(message).isNotEmpty();
        assertThat(sync()).isEqualTo("OutOfSync");
        assertThat(ns.job(JOB).at("/metadata/uid").asText()).as("the same job").isEqualTo(uid);
        assertThat(ns.field(JOB, "/spec/training/epochs")).as("the job untouched").isEqualTo(String.valueOf(EPOCHS));
        assertThat(ns.field(JOB, "/status/phase")).isEqualTo("Succeeded");
    }
}
