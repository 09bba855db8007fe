package dev.finetune.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.Informable;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.source.informer.ManagedInformerEventSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithKubernetesTestServer(crud = true)
class WithoutManagedFieldsTest extends OnMockApiServer {

    @Inject
    Operator operator;

    @Test
    void theCacheKeepsEverythingButManagedFields() {
        WithoutManagedFields<ConfigMap> store = new WithoutManagedFields<>();
        ConfigMap live = new ConfigMapBuilder().withNewMetadata().withName("qwen-trainer").withNamespace("ml")
                .withResourceVersion("42").addToLabels("app", "x")
                .withManagedFields(new ManagedFieldsEntryBuilder().withManager("finetune-operator").withOperation("Update").build())
                .endMetadata().addToData("config.json", "{}").build();

        store.put(store.getKey(live), live);

        ConfigMap cached = store.get("ml/qwen-trainer");
        assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("42");
        assertThat(cached.getMetadata().getLabels()).containsEntry("app", "x");
        assertThat(cached.getData()).containsEntry("config.json", "{}");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyInformerOfTheOperatorUsesIt() {
        Controller<FineTuneJob> controller = (Controller<FineTuneJob>) operator
                .getRegisteredController(FineTuneJobReconciler.NAME).orElseThrow();
        List<ManagedInformerEventSource<?, ?, ?>> informers = Stream.concat(
                        Stream.of(controller.getEventSourceManager().getControllerEventSource()),
                        controller.getEventSourceManager().getRegisteredEventSources().stream())
                .filter(ManagedInformerEventSource.class::isInstance)
                .<ManagedInformerEventSource<?, ?, ?>>map(s -> (ManagedInformerEventSource<?, ?, ?>) s)
                .toList();
        assertThat(informers).as("the jobs', the children's, the worker pods' and the claims' informers")
                .hasSize(1 + EventSources.OWNED.size() + 2)
                .allSatisfy(informer -> assertThat(((Informable<?>) informer.configuration()).getInformerConfig().getItemStore())
                        .as(informer.name()).isInstanceOf(WithoutManagedFields.class));
    }
}
