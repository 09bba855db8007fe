package dev.finetune.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.RepoFiles;
import dev.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The build check that crds/ holds exactly what the Java model generates. */
class CrdIsCurrentTest {

    private static final String FILE = FineTuneJob.CRD_NAME + "-v1.yml";

    @Test
    void committedCrdEqualsTheGeneratedOne() throws IOException {
        Path generated = Path.of(System.getProperty("crd.generated.dir", "target/classes/META-INF/fabric8"), FILE);
        Path committed = RepoFiles.root().resolve("crds").resolve(FILE);

        assertThat(committed)
                .withFailMessage("%s is missing. Generate it: mvn -pl api -Pupdate-crds process-classes", committed)
                .exists();
        assertThat(Files.readString(committed))
                .withFailMessage("crds/%s is stale: the Java model in api/ changed. Regenerate it with "
                        + "`mvn -pl api -Pupdate-crds process-classes` and commit the result.", FILE)
                .isEqualTo(Files.readString(generated));
    }

    @Test
    void crdHasTheColumnsUsersRead() {
        var columns = CrdSchema.crd().path("spec").path("versions").get(0).path("additionalPrinterColumns");
        var names = new java.util.ArrayList<String>();
        columns.forEach(c -> names.add(c.path("name").asText() + (c.path("priority").asInt() > 0 ? "(wide)" : "")));

        assertThat(names).contains("Phase", "GPUs", "Epoch", "Eval-Loss", "PPL", "Age", "Step(wide)", "ETA(wide)",
                "Restarts(wide)", "Reward-Acc(wide)");
    }

    @Test
    void everySpecFieldIsDocumentedForKubectlExplain() {
        var undocumented = new java.util.ArrayList<String>();
        collectUndocumented(CrdSchema.openApiV3Schema(CrdSchema.crd()).path("properties").path("spec"), "spec", undocumented);
        collectUndocumented(CrdSchema.openApiV3Schema(CrdSchema.crd()).path("properties").path("status"), "status", undocumented);

        assertThat(undocumented).isEmpty();
    }

    private static void collectUndocumented(com.fasterxml.jackson.databind.JsonNode schema, String path,
            java.util.List<String> out) {
        schema.path("properties").fields().forEachRemaining(field -> {
            String child = path + "." + field.getKey();
            // Kubernetes' own types (tolerations, conditions) carry upstream docs, or none, in their sub-fields.
            boolean upstreamType = path.contains("tolerations") || path.contains("conditions");
            if (!upstreamType && !field.getValue().has("description")) {
                out.add(child);
            }
            collectUndocumented(field.getValue(), child, out);
            collectUndocumented(field.getValue().path("items"), child + "[]", out);
        });
    }
}
