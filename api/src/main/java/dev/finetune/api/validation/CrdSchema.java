package dev.finetune.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The openAPIV3Schema of the FineTuneJob CRD, read from the CRD generated into this jar. */
public final class CrdSchema {

    /** Where the CRD generator puts the CRD, inside the api jar. */
    public static final String CRD_RESOURCE = "/META-INF/fabric8/" + FineTuneJob.CRD_NAME + "-v1.yml";

    private CrdSchema() {
    }

    /** The whole CRD as generated. */
    public static JsonNode crd() {
        try (InputStream in = CrdSchema.class.getResourceAsStream(CRD_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CRD_RESOURCE + " is missing from the classpath: build the api module");
            }
            return TrainerJson.yaml().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The schema of version {@link FineTuneJob#VERSION}. */
    public static JsonNode openApiV3Schema(JsonNode crd) {
        for (JsonNode version : crd.path("spec").path("versions")) {
            if (FineTuneJob.VERSION.equals(version.path("name").asText())) {
                return version.path("schema").path("openAPIV3Schema");
            }
        }
        throw new IllegalStateException("the CRD has no version " + FineTuneJob.VERSION);
    }
}
