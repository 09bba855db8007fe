package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.Fixtures;
import dev.finetune.operator.children.Labels;
import dev.finetune.operator.events.EventRecorder;
import dev.finetune.operator.metrics.JobMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Named to sort last among the {@code @QuarkusTest} classes (they share one application, ordered by class
 * name): its restart test stops the application's operator and leaves a fresh instance running.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class OperatorRestartAndMetricsTest extends OnMockApiServer {

    @Inject
    Operator operator;

    @Inject
    ApiServerEndpoints endpoints;

    @Inject
    StorageClassModes storageClasses;

    @Inject
    EventRecorder events;

    @Inject
    JobMetrics metrics;

    @ConfigProperty(name = "quarkus.http.test-port", defaultValue = "8081")
    int port;

    private void training(String ns, String name) {
        cluster.boundClaims(ns, "models", "data", "outputs");
        cluster.create(Fixtures.job(ns, name));
        cluster.awaitWorkerJob(ns, name, 1);
        cluster.runWorkers(ns, name, 1, 2);
        cluster.report(ns, name, Fixtures.report(1, 3, TrainerState.TRAINING, 1, 100, 2.25,
                List.of(Fixtures.eval(1, 100, 2.5, 2.25)), Fixtures.checkpoint(1, 100)));
        cluster.await(ns, name, j -> j.getStatus().getPhase() == Phase.Training);
    }

    @Test
    @Order(1)
    void metricsEndpointShowsPerJobGaugesJobsByPhaseAndReconcileMetrics() throws Exception {
        training("metrics", "run");
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(body).containsPattern("finetune_job_eval_loss\\{job=\"run\",namespace=\"metrics\"\\} 2\\.25")
                .containsPattern("finetune_job_epoch\\{job=\"run\",namespace=\"metrics\"\\} 1\\.0")
                .containsPattern("finetune_job_tokens_per_second\\{job=\"run\",namespace=\"metrics\"\\} 1234\\.5")
                .containsPattern("finetune_job_restarts\\{job=\"run\",namespace=\"metrics\"\\} 0\\.0")
                .containsPattern("finetune_jobs\\{phase=\"Training\"\\} [1-9]")
                .contains("operator_sdk_");
    }

    /** Runs last in this class: it replaces the application's operator with a fresh instance. */
    @Test
    @Order(2)
    void aRestartedOperatorPicksUpWhereTheOldOneStoppedWithoutDuplicates() {
        String ns = "restart";
        training(ns, "run");
        operator.stop();

        // While no operator runs, rank 0 finishes epoch 2.
        cluster.report(ns, "run", Fixtures.report(1, 9, TrainerState.TRAINING, 2, 200, 2.0,
                List.of(Fixtures.eval(1, 100, 2.5, 2.25), Fixtures.eval(2, 200, 2.1, 2.0)), Fixtures.checkpoint(2, 200)));

        Operator fresh = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
        fresh.register(new FineTuneJobReconciler(client, endpoints, storageClasses, events, metrics, Clock.systemUTC()));
        fresh.start();

        FineTuneJob job = cluster.await(ns, "run", j -> j.getStatus().getHistory().size() == 2);
        assertThat(job.getStatus().getAttempt()).isEqualTo(1);
        assertThat(job.getStatus().getRestarts()).isZero();
        assertThat(job.getStatus().getLastCheckpoint().step()).isEqualTo(200);
        assertThat(job.getStatus().getDisplay().getEpoch()).isEqualTo("2/3");
        assertThat(client.batch().v1().jobs().inNamespace(ns).withLabel(Labels.JOB, "run").list().getItems()).hasSize(1);
        assertThat(client.configMaps().inNamespace(ns).withLabel(Labels.JOB, "run").list().getItems()).hasSize(2);
        assertThat(client.services().inNamespace(ns).withLabel(Labels.JOB, "run").list().getItems()).hasSize(1);
        assertThat(client.v1().events().inNamespace(ns).list().getItems().stream().filter(e -> "Evaluated".equals(e.getReason())))
                .hasSize(2);
        assertThat(client.v1().events().inNamespace(ns).list().getItems().stream().filter(e -> "WorkersStarted".equals(e.getReason())))
                .hasSize(1);
    }
}
