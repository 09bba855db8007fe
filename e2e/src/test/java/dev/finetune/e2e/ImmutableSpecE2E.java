package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A FineTuneJob is one training run: an edit of its model, dataset, LoRA, training, resources or output is rejected by
 * the API server with the CRD's CEL message, which is what {@code kubectl edit}/{@code apply} shows the user.
 * spec.suspend stays editable.
 */
class ImmutableSpecE2E {

    private static final String JOB = "immutable";

    @RegisterExtension
    static final ScenarioNamespace SCENARIO = ScenarioNamespace.empty("ft-immutable-e2e");

    @BeforeAll
    static void createTheJob() {
        SCENARIO.cluster().installOperator();
        // no claims: the job waits (Validated=False) and never starts workers, which is all this needs
        SCENARIO.ns().createQuickstartJob(SCENARIO.cluster().settings().repo(), JOB, job -> { });
    }

    /** One merge patch per immutable section, as {@code kubectl patch --type merge} sends it. */
    static Stream<Arguments> edits() {
        return Stream.of(
                Arguments.of("model", "{\"name\": \"other/model\"}"),
                Arguments.of("dataset", "{\"maxSeqLength\": 64}"),
                Arguments.of("lora", "{\"rank\": 4}"),
                Arguments.of("training", "{\"epochs\": 5}"),
                Arguments.of("resources", "{\"memory\": \"5Gi\"}"),
                Arguments.of("output", "{\"keepCheckpoints\": 3}"));
    }

    @ParameterizedTest(name = "spec.{0}")
    @MethodSource("edits")
    void anEditIsRejectedWithTheCelMessage(String field, String change) {
        String patch = "{\"spec\": {\"" + field + "\": " + change + "}}";
        assertThatThrownBy(() -> SCENARIO.ns().jobResource(JOB).patch(PatchContext.of(PatchType.JSON_MERGE), patch))
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).as("HTTP status").isEqualTo(422))
                .hasMessageContaining("spec." + field + " is immutable: a FineTuneJob is one training run");
    }

    @ParameterizedTest(name = "suspend={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void suspendStaysEditable(boolean suspend) {
        GenericKubernetesResource edited = SCENARIO.ns().jobResource(JOB)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\": {\"suspend\": " + suspend + "}}");
        assertThat(edited.get("spec", "suspend").toString()).isEqualTo(Boolean.toString(suspend));
    }
}
