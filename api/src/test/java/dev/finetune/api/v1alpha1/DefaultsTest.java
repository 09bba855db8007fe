package dev.finetune.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.validation.FineTuneJobValidator;
import java.util.Comparator;
import org.junit.jupiter.api.Test;

/**
 * One YAML, one run: the defaults the API server fills in (from the CRD) are exactly the defaults the
 * Java model fills in when {@code finetune run} reads the same YAML without a server.
 */
class DefaultsTest {

    private static final String MINIMAL = """
            apiVersion: finetune.dev/v1alpha1
            kind: FineTuneJob
            metadata: {name: minimal}
            spec:
              model: {pvc: {claimName: models, path: m}}
              dataset: {pvc: {claimName: data, path: d.jsonl}}
              output: {pvc: {claimName: outputs, path: runs/minimal}}
            """;

    /** Numbers compare by value: the CRD says 16.0 where Java may write 16. */
    private static final Comparator<JsonNode> BY_VALUE = (a, b) -> a.isNumber() && b.isNumber()
            ? Double.compare(a.asDouble(), b.asDouble())
            : a.equals(b) ? 0 : 1;

    @Test
    void serverDefaultsEqualJavaDefaults() throws Exception {
        JsonNode manifest = TrainerJson.yaml().readTree(MINIMAL);
        JsonNode serverSpec = new FineTuneJobValidator().withDefaults(manifest).get("spec");
        JsonNode javaSpec = TrainerJson.json().valueToTree(TrainerJson.yaml().readValue(MINIMAL, FineTuneJob.class).getSpec());

        assertThat(serverSpec.equals(BY_VALUE, javaSpec))
                .withFailMessage("API server defaults:%n%s%ndiffer from Java defaults:%n%s", serverSpec.toPrettyString(),
                        javaSpec.toPrettyString())
                .isTrue();
    }

    @Test
    void effectiveValuesCoverFieldsWithoutSchemaDefaults() throws Exception {
        FineTuneJobSpec spec = TrainerJson.yaml().readValue(MINIMAL, FineTuneJob.class).getSpec();

        assertThat(spec.getTraining().effectiveEpochs()).isEqualTo(3);
        assertThat(spec.getTraining().effectiveWarmupSteps(1000)).isEqualTo(30);
        assertThat(spec.getDataset().effectiveEvalSplit()).isEqualTo(0.1);
        assertThat(spec.getLora().resolvedTargetModules()).hasSize(7).doesNotContain(TargetModule.ALL_LINEAR);
        assertThat(spec.getLora().scaling()).isEqualTo(2.0);
        assertThat(spec.getResources().worldSize()).isEqualTo(1);
    }

    @Test
    void curriculumEpochsAddUpAndRsloraScalesBySquareRoot() {
        TrainingSpec training = new TrainingSpec();
        Curriculum curriculum = new Curriculum();
        CurriculumStage easy = new CurriculumStage();
        easy.setEpochs(1);
        CurriculumStage hard = new CurriculumStage();
        hard.setEpochs(2);
        curriculum.setStages(java.util.List.of(easy, hard));
        training.setCurriculum(curriculum);
        LoraSpec lora = new LoraSpec();
        lora.setRank(16);
        lora.setAlpha(32);
        lora.setUseRslora(true);

        assertThat(training.effectiveEpochs()).isEqualTo(3);
        assertThat(lora.scaling()).isEqualTo(8.0);
    }
}
