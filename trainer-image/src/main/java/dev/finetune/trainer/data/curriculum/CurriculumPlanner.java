package dev.finetune.trainer.data.curriculum;

import dev.finetune.api.v1alpha1.Curriculum;
import dev.finetune.api.v1alpha1.CurriculumStage;
import dev.finetune.api.v1alpha1.SelectionKey;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.batch.TokenizedSample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Orders training samples easy → hard (length in tokens before truncation, or a score field, lower is easier;
 * ties keep record order) and gives each stage the first {@code ceil(upTo × n)} of them.
 */
public final class CurriculumPlanner {
    private CurriculumPlanner() {
    }

    public static List<StagePlan> plan(List<TokenizedSample> train, Curriculum curriculum, int defaultEpochs) {
        if (curriculum == null || curriculum.getStages() == null || curriculum.getStages().isEmpty()) {
            return List.of(new StagePlan("all", 1.0, defaultEpochs, null, List.copyOf(train)));
        }
        List<TokenizedSample> ordered = new ArrayList<>(train);
        Comparator<TokenizedSample> easyFirst = curriculum.getBy() == SelectionKey.SCORE
                ? Comparator.comparingDouble(s -> Selection.score(s, curriculum.getScoreField()))
                : Comparator.comparingInt(TokenizedSample::originalLength);
        ordered.sort(easyFirst); // stable: ties keep record order
        List<StagePlan> stages = new ArrayList<>();
        double previous = 0;
        for (int k = 0; k < curriculum.getStages().size(); k++) {
            CurriculumStage st = curriculum.getStages().get(k);
            double upTo = st.getUpTo() == null ? 1.0 : st.getUpTo();
            if (upTo <= previous || upTo > 1.0) {
                throw new DatasetException(null, "training.curriculum.stages[" + k + "].upTo",
                        "upTo " + upTo + " must grow from stage to stage and stay within (0, 1]",
                        "use increasing shares such as 0.3, 0.6, 1");
            }
            if (k == curriculum.getStages().size() - 1 && upTo != 1.0) {
                throw new DatasetException(null, "training.curriculum.stages[" + k + "].upTo",
                        "the last stage has upTo " + upTo + ", so the hardest records would never be trained on",
                        "end with upTo: 1");
            }
            int count = (int) Math.ceil(upTo * ordered.size() - 1e-9);
            stages.add(new StagePlan(st.getName(), upTo, st.getEpochs(), st.getLearningRate(),
                    List.copyOf(ordered.subList(0, count))));
            previous = upTo;
        }
        return stages;
    }
}
