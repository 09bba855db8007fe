package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A FineTuneJob is one training run: an edit of its model, dataset, LoRA, training, resources or output is rejected by
 * the API server with the CRD's CEL message, which is what {@code kubectl edit}/{@code apply} shows the user.
 * spec.suspend stays editable.
 */
@ExtendWith(E2eExtension.class)
class ImmutableSpecE2E {

    private static final String JOB = "immutable";

    private static E2eCluster cluster;
    private static TestNamespace ns;

    @RegisterExtension
    static final KeepOnFailure KEEP = new KeepOnFailure(() -> ns, () -> cluster);

    @BeforeAll
    static void createTheJob(E2eCluster shared) {
        cluster = shared;
        cluster.installOperator();
        ns = TestNamespace.create(shared.client(), "ft-immutable-e2e");
        // no claims: the job waits (Validated=False) and never starts workers, which is all this needs
        ns.createQuickstartJob(shared.settings().repo(), JOB, job -> { });
    }

    @AfterAll
    static void cleanUp() {
        KEEP.deleteNamespaceUnlessFailed();
    }

    static Stream<Arguments> edits() {
        return Stream.of(
                Arguments.of("model", (Consumer<Map<String, Object>>) spec -> section(spec, "model").put("name", "other/model")),
                Arguments.of("dataset", (Consumer<Map<String, Object>>) spec -> section(spec, "dataset").put("maxSeqLength", 64)),
                Arguments.of("lora", (Consumer<Map<String, Object>>) spec -> section(spec, "lora").put("rank", 4)),
                Arguments.of("training", (Consumer<Map<String, Object>>) spec -> section(spec, "training").put("epochs", 5)),
                Arguments.of("resources", (Consumer<Map<String, Object>>) spec -> section(spec, "resources").put("memory", "5Gi")),
                Arguments.of("output", (Consumer<Map<String, Object>>) spec -> section(spec, "output").put("keepCheckpoints", 3)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> spec, String name) {
        return (Map<String, Object>) spec.get(name);
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest(name = "spec.{0}")
    @MethodSource("edits")
    void anEditIsRejectedWithTheCelMessage(String field, Consumer<Map<String, Object>> edit) {
        var resource = ns.jobResource(JOB);
        assertThatThrownBy(() -> resource.edit(job -> {
            edit.accept((Map<String, Object>) job.getAdditionalProperties().get("spec"));
            return job;
        }))
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
                .hasMessageContaining("spec." + field + " is immutable: a FineTuneJob is one training run");
    }

    @ParameterizedTest(name = "suspend={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void suspendStaysEditable(boolean suspend) {
        GenericKubernetesResource edited = ns.jobResource(JOB).edit(job -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = (Map<String, Object>) job.getAdditionalProperties().get("spec");
            spec.put("suspend", suspend);
            return job;
        });
        assertThat(edited.get("spec", "suspend").toString()).isEqualTo(Boolean.toString(suspend));
    }
}
