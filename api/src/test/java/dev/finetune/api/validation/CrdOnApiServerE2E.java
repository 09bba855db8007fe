package dev.finetune.api.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.finetune.api.RepoFiles;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable.Validation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRD on a real API server ($KUBECONFIG): it installs (CEL rules compile and fit the cost budget),
 * the examples are accepted, and every mistake of {@link BadSpecsAreRejectedTest} is rejected there
 * too, with the same message our offline validator gives; and the API server stores the CRD as the file
 * writes it (a field it would drop or rewrite leaves Argo CD and other GitOps tools reporting the CRD
 * OutOfSync forever).
 */
class CrdOnApiServerE2E {

    private static final String NAMESPACE = "crd-e2e";
    private static KubernetesClient client;

    @BeforeAll
    static void installCrd() throws Exception {
        client = new KubernetesClientBuilder().build();
        Path crdFile = RepoFiles.root().resolve("crds").resolve(FineTuneJob.CRD_NAME + "-v1.yml");
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions()
                .load(Files.newInputStream(crdFile)).item();
        client.resource(crd).forceConflicts().serverSideApply();
        client.apiextensions().v1().customResourceDefinitions().withName(FineTuneJob.CRD_NAME)
                .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                        && c.getStatus().getConditions().stream()
                        .anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus())),
                        60, TimeUnit.SECONDS);
        client.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .serverSideApply();
    }

    @AfterAll
    static void close() {
        if (client != null) {
            client.close();
        }
    }

    @Test
    void theApiServerStoresEveryFieldOfTheCrdFileAsWritten() throws Exception {
        JsonNode file = new YAMLMapper().readTree(RepoFiles.root().resolve("crds").resolve(FineTuneJob.CRD_NAME + "-v1.yml")
                .toFile());
        JsonNode live = TrainerJson.json().valueToTree(client.apiextensions().v1().customResourceDefinitions()
                .withName(FineTuneJob.CRD_NAME).get());
        List<String> differences = new ArrayList<>();
        compare(file.path("spec"), live.path("spec"), "spec", differences);
        assertThat(differences).as("fields of crds/ the API server stores differently (file -> live)").isEmpty();
    }

    /** Every field {@code file} sets, {@code live} has with an equal value; extra live fields (defaults) are fine. */
    private static void compare(JsonNode file, JsonNode live, String path, List<String> differences) {
        if (file.isObject()) {
            file.properties().forEach(field -> compare(field.getValue(), live.path(field.getKey()),
                    path + "." + field.getKey(), differences));
        } else if (file.isArray()) {
            if (!live.isArray() || live.size() != file.size()) {
                differences.add(path + ": " + file.size() + " items -> " + live);
                return;
            }
            for (int i = 0; i < file.size(); i++) {
                compare(file.get(i), live.get(i), path + "[" + i + "]", differences);
            }
        } else if (file.isNumber() ? !live.isNumber() || file.decimalValue().compareTo(live.decimalValue()) != 0
                : !file.equals(live)) {
            differences.add(path + ": " + file + " -> " + (live.isMissingNode() ? "(dropped)" : live));
        }
    }

    private static GenericKubernetesResource resource(ObjectNode manifest) {
        GenericKubernetesResource resource = TrainerJson.json().convertValue(manifest, GenericKubernetesResource.class);
        resource.getMetadata().setNamespace(NAMESPACE);
        return resource;
    }

    static Stream<Path> examples() throws Exception {
        return ExamplesAreValidTest.examples();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void exampleIsAcceptedByTheApiServer(Path example) throws Exception {
        ObjectNode manifest = (ObjectNode) TrainerJson.yaml().readTree(example.toFile());

        GenericKubernetesResource created = client.resource(resource(manifest)).dryRun().create();

        assertThat(created.getMetadata().getName()).isEqualTo(manifest.at("/metadata/name").asText());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.finetune.api.validation.BadSpecsAreRejectedTest#quantities")
    void quantityIsAcceptedByTheApiServer(JsonNode quantity) {
        ObjectNode manifest = BadSpecsAreRejectedTest.valid();
        ObjectNode resources = BadSpecsAreRejectedTest.at(manifest, "spec.resources");
        resources.set("cpu", quantity);
        resources.set("memory", quantity);
        resources.set("sharedMemory", quantity);

        GenericKubernetesResource created = client.resource(resource(manifest)).dryRun().fieldValidation(Validation.STRICT).create();

        assertThat(created.getAdditionalProperties().toString()).contains("cpu=" + quantity.asText());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.finetune.api.validation.BadSpecsAreRejectedTest#mistakes")
    void mistakeIsRejectedByTheApiServerWithTheSameMessage(String why, Consumer<ObjectNode> mistake, String field,
            String message) {
        ObjectNode manifest = BadSpecsAreRejectedTest.valid();
        mistake.accept(manifest);

        // Strict, as kubectl apply does by default: unknown fields are errors, not silently dropped.
        assertThatThrownBy(() -> client.resource(resource(manifest)).dryRun().fieldValidation(Validation.STRICT).create())
                .as(why)
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    String serverSays = e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage();
                    // Unknown fields are refused by strict decoding, worded by the server its own way.
                    String expected = message.equals("field not declared in schema") ? "unknown field \"" + field + "\"" : message;
                    assertThat(serverSays).contains(expected);
                    if (!message.equals("field not declared in schema")) {
                        assertThat(serverSays).contains(field);
                    }
                });
    }

    @Test
    void runDefiningFieldsAreImmutableAndOperationalOnesAreNot() {
        ObjectNode manifest = BadSpecsAreRejectedTest.valid();
        ((ObjectNode) manifest.get("metadata")).put("name", "immutability");
        client.resource(resource(manifest)).delete();
        client.resource(resource(manifest)).create();
        try {
            ObjectNode retuned = manifest.deepCopy();
            ((ObjectNode) retuned.get("spec")).put("suspend", true).put("backoffLimit", 7);
            client.resource(resource(retuned)).update();

            ObjectNode changed = manifest.deepCopy();
            ((ObjectNode) changed.get("spec")).putObject("lora").put("rank", 64);

            assertThatThrownBy(() -> client.resource(resource(changed)).update())
                    .isInstanceOf(KubernetesClientException.class)
                    .hasMessageContaining("spec.lora is immutable");
        } finally {
            client.resource(resource(manifest)).delete();
        }
    }
}
