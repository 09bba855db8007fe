package dev.finetune.trainer.data.curriculum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.v1alpha1.Curriculum;
import dev.finetune.api.v1alpha1.CurriculumStage;
import dev.finetune.api.v1alpha1.DataSelection;
import dev.finetune.api.v1alpha1.SelectionKey;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import dev.finetune.trainer.data.batch.TokenizedSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelectionAndCurriculumTest {

    /** Sample n with the given length and score; ids are n repeated so duplicates can be made on purpose. */
    static TokenizedSample s(int n, int length, Double score) {
        int[] ids = new int[length];
        Arrays.fill(ids, n);
        return new TokenizedSample(ids, ids.clone(), new SourceLocation("d.jsonl", n + 1, 0, n), length,
                score == null ? Map.of() : Map.of("score", score), null, null);
    }

    static List<Integer> numbers(List<TokenizedSample> samples) {
        return samples.stream().map(x -> x.source().recordIndex()).toList();
    }

    @Test
    void dedupeKeepsTheFirstCopy() {
        DataSelection sel = new DataSelection();
        sel.setDedupe(true);
        TokenizedSample a = s(1, 3, null);
        TokenizedSample dup = new TokenizedSample(a.inputIds().clone(), a.labels(), new SourceLocation("d.jsonl", 9, 0, 8), 3,
                Map.of(), null, null);
        Selection.Result r = Selection.apply(List.of(a, s(2, 3, null), dup), sel);
        assertThat(numbers(r.kept())).containsExactly(1, 2);
        assertThat(r.duplicates()).isEqualTo(1);
    }

    @Test
    void minAndMaxTokens() {
        DataSelection sel = new DataSelection();
        sel.setMinTokens(3);
        sel.setMaxTokens(5);
        Selection.Result r = Selection.apply(List.of(s(0, 2, null), s(1, 3, null), s(2, 5, null), s(3, 6, null)), sel);
        assertThat(numbers(r.kept())).containsExactly(1, 2);
        assertThat(r.tooShort()).isEqualTo(1);
        assertThat(r.tooLong()).isEqualTo(1);
    }

    @Test
    void topNByScoreKeepsTheHighestInRecordOrder() {
        DataSelection sel = new DataSelection();
        sel.setTopN(2);
        sel.setBy(SelectionKey.SCORE);
        Selection.Result r = Selection.apply(List.of(s(0, 2, 0.1), s(1, 2, 0.9), s(2, 2, 0.5), s(3, 2, 0.7)), sel);
        assertThat(numbers(r.kept())).containsExactly(1, 3);
        assertThat(r.belowTopN()).isEqualTo(2);
    }

    @Test
    void topNByLengthKeepsTheShortest() {
        DataSelection sel = new DataSelection();
        sel.setTopN(2);
        sel.setBy(SelectionKey.LENGTH);
        Selection.Result r = Selection.apply(List.of(s(0, 9, null), s(1, 2, null), s(2, 5, null), s(3, 3, null)), sel);
        assertThat(numbers(r.kept())).containsExactly(1, 3);
    }

    @Test
    void topNByScoreNamesARecordWithoutScore() {
        DataSelection sel = new DataSelection();
        sel.setTopN(1);
        assertThatThrownBy(() -> Selection.apply(List.of(s(0, 2, 0.3), s(1, 2, null)), sel))
                .isInstanceOfSatisfying(DatasetException.class, e -> {
                    assertThat(e.location().line()).isEqualTo(2);
                    assertThat(e.field()).isEqualTo("score");
                });
    }

    static CurriculumStage stage(String name, double upTo, int epochs, Double lr) {
        CurriculumStage st = new CurriculumStage();
        st.setName(name);
        st.setUpTo(upTo);
        st.setEpochs(epochs);
        st.setLearningRate(lr);
        return st;
    }

    @Test
    void stagesAreCumulativeEasyFirstByLength() {
        List<TokenizedSample> train = new ArrayList<>();
        int[] lengths = {50, 10, 40, 20, 30, 60, 70, 80, 90, 100};
        for (int k = 0; k < lengths.length; k++) {
            train.add(s(k, lengths[k], null));
        }
        Curriculum c = new Curriculum();
        c.setStages(List.of(stage("easy", 0.3, 2, 3e-4), stage("medium", 0.6, 1, null), stage("hard", 1.0, 1, 1e-4)));
        List<StagePlan> plan = CurriculumPlanner.plan(train, c, 3);
        assertThat(plan).extracting(StagePlan::name).containsExactly("easy", "medium", "hard");
        assertThat(numbers(plan.get(0).samples())).containsExactly(1, 3, 4);
        assertThat(numbers(plan.get(1).samples())).containsExactly(1, 3, 4, 2, 0, 5);
        assertThat(plan.get(2).samples()).hasSize(10);
        assertThat(plan.get(0).epochs()).isEqualTo(2);
        assertThat(plan.get(0).learningRate()).isEqualTo(3e-4);
        assertThat(plan.get(1).learningRate()).isNull();
    }

    @Test
    void stagesByScoreLowerIsEasier() {
        Curriculum c = new Curriculum();
        c.setBy(SelectionKey.SCORE);
        c.setScoreField("score");
        c.setStages(List.of(stage("easy", 0.5, 1, null), stage("hard", 1.0, 1, null)));
        List<StagePlan> plan = CurriculumPlanner.plan(List.of(s(0, 5, 3.0), s(1, 5, 1.0), s(2, 5, 2.0), s(3, 5, 0.5)), c, 3);
        assertThat(numbers(plan.get(0).samples())).containsExactly(3, 1);
    }

    @Test
    void noCurriculumIsOneStageWithTheTrainingEpochs() {
        List<StagePlan> plan = CurriculumPlanner.plan(List.of(s(0, 5, null)), null, 4);
        assertThat(plan).singleElement().satisfies(p -> {
            assertThat(p.name()).isEqualTo("all");
            assertThat(p.epochs()).isEqualTo(4);
        });
    }

    @Test
    void stagesMustGrowAndEndAtOne() {
        Curriculum c = new Curriculum();
        c.setStages(List.of(stage("a", 0.6, 1, null), stage("b", 0.4, 1, null)));
        assertThatThrownBy(() -> CurriculumPlanner.plan(List.of(s(0, 5, null)), c, 1))
                .isInstanceOfSatisfying(DatasetException.class, e -> assertThat(e.field()).isEqualTo("training.curriculum.stages[1].upTo"));
        c.setStages(List.of(stage("a", 0.5, 1, null)));
        assertThatThrownBy(() -> CurriculumPlanner.plan(List.of(s(0, 5, null)), c, 1))
                .isInstanceOf(DatasetException.class).hasMessageContaining("upTo: 1");
    }
}
