package dev.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.v1alpha1.Curriculum;
import dev.finetune.api.v1alpha1.CurriculumStage;
import dev.finetune.api.v1alpha1.DataSelection;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.SelectionKey;
import dev.finetune.api.v1alpha1.TrainingMethod;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.report.DatasetReport;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import dev.finetune.trainer.testing.Rows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetPipelineTest {

    @TempDir
    Path dir;

    Path alpaca(String name, int n) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < n; k++) {
            sb.append("{\"instruction\": \"Count to ").append(k).append(".\", \"output\": \"")
                    .append("one ".repeat(k + 1).strip()).append("\", \"score\": ").append(k % 7).append("}\n");
        }
        Path p = dir.resolve(name);
        Files.writeString(p, sb);
        return p;
    }

    static DatasetSpec spec() {
        DatasetSpec s = new DatasetSpec();
        s.setMaxSeqLength(64);
        s.setEnableThinking(false);
        return s;
    }

    static TrainingSpec training(long seed, int batchSize) {
        TrainingSpec t = new TrainingSpec();
        t.setSeed(seed);
        t.setBatchSize(batchSize);
        return t;
    }

    PreparedDataset prepare(DatasetSpec s, TrainingSpec t, Path data, Path eval, int rank, int world) {
        return DatasetPipeline.prepare(s, t, TestModels.tokenizer(TestModels.QWEN3), data, eval, rank, world);
    }

    @Test
    void splitTurnsTurnsEachAssistantTurnOfAMultiTurnRecordIntoASample() throws IOException {
        Path data = dir.resolve("chats.jsonl");
        Files.writeString(data, """
                {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}, \
                {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]}
                {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
                """);
        DatasetSpec s = spec();
        s.setEvalSplit(0.0);
        s.setSplitTurns(true);

        PreparedDataset split = prepare(s, training(1, 2), data, null, 0, 1);

        assertThat(split.train()).hasSize(3);
        assertThat(split.report().recordsRead()).isEqualTo(2);
    }

    @Test
    void splitsReportsAndIsDeterministic() throws IOException {
        Path data = alpaca("d.jsonl", 20);
        PreparedDataset a = prepare(spec(), training(7, 4), data, null, 0, 1);
        PreparedDataset b = prepare(spec(), training(7, 4), data, null, 0, 1);
        PreparedDataset other = prepare(spec(), training(8, 4), data, null, 0, 1);
        assertThat(a.train()).hasSize(18);
        assertThat(a.eval()).hasSize(2);
        assertThat(sources(a.eval())).isEqualTo(sources(b.eval())).isNotEqualTo(sources(other.eval()));
        DatasetReport r = a.report();
        assertThat(r.recordsRead()).isEqualTo(20);
        assertThat(r.formats()).containsEntry("alpaca", 20);
        assertThat(r.template()).startsWith("model (");
        assertThat(r.trainSamples()).isEqualTo(18);
        assertThat(r.histogram().stream().mapToInt(DatasetReport.Bucket::count).sum()).isEqualTo(18);
        assertThat(r.labelShare()).isBetween(0.05, 0.9);
        assertThat(r.labelTokens()).isEqualTo(a.train().stream().mapToLong(TokenizedSample::labelTokenCount).sum());
        assertThat(r.sample().overlay()).contains("⟦").endsWith("<|im_end|>⟧\n");
        String text = DatasetReportRenderer.render(r);
        assertThat(text).contains("18 train, 2 eval").contains("label tokens").contains("⟦").contains("stop");
        // dataset.packing unset: 18 samples make 5 batches of 4, too few steps for packing to be chosen
        assertThat(r.packing().packed()).isFalse();
        assertThat(a.options().packing()).isFalse();
        assertThat(text).containsPattern("packing +off \\(dataset.packing unset, decided: packing saves [0-9.]+% of the "
                + "token positions \\(at least 25% needed\\), computes [0-9.]+x the attention scores \\(at most 1x\\), "
                + "optimizer steps per epoch 5 unpacked, [0-9]+ packed "
                + "\\(at least 100 needed\\)\\)");
    }

    @Test
    void truncationIsCountedAndSamplesWithoutLabelsAreDropped() throws IOException {
        Path data = dir.resolve("long.jsonl");
        Files.writeString(data, "{\"instruction\": \"" + "word ".repeat(40) + "\", \"output\": \"yes\"}\n"
                + "{\"instruction\": \"hi\", \"output\": \"" + "word ".repeat(40) + "\"}\n"
                + "{\"instruction\": \"hi\", \"output\": \"ok\"}\n");
        DatasetSpec s = spec();
        s.setMaxSeqLength(24);
        s.setEvalSplit(0.0);
        PreparedDataset d = prepare(s, training(1, 2), data, null, 0, 1);
        assertThat(d.report().droppedNoLabels()).isEqualTo(1); // the long prompt swallowed its answer
        assertThat(d.train()).hasSize(2);
        assertThat(d.report().truncated()).isEqualTo(1);
        assertThat(d.train()).allSatisfy(t -> assertThat(t.length()).isLessThanOrEqualTo(24));
    }

    @Test
    void separateEvalFile() throws IOException {
        PreparedDataset d = prepare(spec(), training(1, 2), alpaca("train.jsonl", 6), alpaca("eval.jsonl", 3), 0, 1);
        assertThat(d.train()).hasSize(6);
        assertThat(d.eval()).hasSize(3);
        assertThat(d.report().evalSource()).contains("eval.jsonl");
    }

    @Test
    void selectionAndCurriculumApply() throws IOException {
        DatasetSpec s = spec();
        s.setEvalSplit(0.0);
        DataSelection sel = new DataSelection();
        sel.setTopN(10);
        sel.setBy(SelectionKey.SCORE);
        s.setSelection(sel);
        TrainingSpec t = training(1, 2);
        Curriculum c = new Curriculum();
        CurriculumStage easy = new CurriculumStage();
        easy.setName("easy");
        easy.setUpTo(0.5);
        easy.setEpochs(2);
        CurriculumStage hard = new CurriculumStage();
        hard.setName("hard");
        hard.setUpTo(1.0);
        c.setStages(List.of(easy, hard));
        t.setCurriculum(c);
        PreparedDataset d = prepare(s, t, alpaca("d.jsonl", 20), null, 0, 1);
        assertThat(d.train()).hasSize(10).allSatisfy(x -> assertThat(x.scores().get("score")).isGreaterThanOrEqualTo(3.0));
        assertThat(d.report().selection()).containsEntry("belowTopN", 10);
        assertThat(d.stages()).hasSize(2);
        assertThat(d.stages().get(0).samples()).hasSize(5);
        int longestEasy = d.stages().get(0).samples().stream().mapToInt(TokenizedSample::originalLength).max().orElseThrow();
        assertThat(d.train()).filteredOn(x -> !d.stages().get(0).samples().contains(x))
                .allSatisfy(x -> assertThat(x.originalLength()).isGreaterThanOrEqualTo(longestEasy));
        assertThat(DatasetReportRenderer.render(d.report())).contains("easy").contains("hard");
    }

    @Test
    void everyRankPreparesTheSameDataAndGetsItsOwnBatches() throws IOException {
        Path data = alpaca("d.jsonl", 30);
        DatasetSpec s = spec();
        s.setPacking(true);
        Set<String> seen = new HashSet<>();
        int steps = -1;
        for (int rank = 0; rank < 2; rank++) {
            PreparedDataset d = prepare(s, training(3, 2), data, null, rank, 2);
            assertThat(d.report().packing().packed()).isTrue();
            assertThat(d.report().packing().reason()).isEqualTo("dataset.packing: true");
            List<Batch> batches = d.batcher(d.stages().getFirst()).trainEpoch(0);
            steps = steps < 0 ? batches.size() : steps;
            assertThat(batches).hasSize(steps);
            for (Batch b : batches) {
                for (int r = 0; r < b.rows(); r++) {
                    seen.add(java.util.Arrays.toString(java.util.Arrays.copyOf(Rows.ids(b, r), Rows.length(b, r))));
                }
            }
        }
        assertThat(seen.size()).isGreaterThan(1);
    }

    @Test
    void directoryWithDifferentFormatsPerFileAndPreferenceRecordsKeepingRejected() throws IOException {
        Path data = Files.createDirectory(dir.resolve("mixed"));
        Files.writeString(data.resolve("a.jsonl"), "{\"instruction\": \"Hi\", \"output\": \"Hello\"}\n");
        Files.writeString(data.resolve("b.json"), "[{\"conversations\": [{\"from\": \"human\", \"value\": \"Hi\"}, "
                + "{\"from\": \"gpt\", \"value\": \"Hey\"}]}]");
        Files.writeString(data.resolve("c.jsonl"), "{\"prompt\": \"Hi\", \"chosen\": \"Hello!\", \"rejected\": \"Go away.\"}\n");
        DatasetSpec s = spec();
        s.setEvalSplit(0.0);
        s.setTemplate("chatml");
        PreparedDataset d = prepare(s, training(1, 2), data, null, 0, 1);
        assertThat(d.report().formats()).containsEntry("alpaca", 1).containsEntry("sharegpt", 1).containsEntry("preference", 1);
        assertThat(d.report().files()).containsExactly("a.jsonl", "b.json", "c.jsonl");
        TokenizedSample pref = d.train().get(2);
        assertThat(pref.rejectedIds()).isNotNull();
        assertThat(Samples.learnedRuns(TestModels.tokenizer(TestModels.QWEN3), pref.rejectedIds(), pref.rejectedLabels()))
                .containsExactly("Go away.<|im_end|>");
        assertThat(d.train().get(0).rejectedIds()).isNull();
    }

    @Test
    void aLongRejectedReplyLimitsOnlyThePreferenceMethods() throws IOException {
        Path data = dir.resolve("pref.jsonl");
        Files.writeString(data, "{\"prompt\": \"Hi\", \"chosen\": \"Hello!\", \"rejected\": \""
                + "go away ".repeat(40) + "\"}\n");
        DatasetSpec s = spec();
        s.setEvalSplit(0.0);
        s.setTemplate("chatml");
        s.setTruncation(false);
        assertThat(prepare(s, training(1, 2), data, null, 0, 1).train()).hasSize(1);

        TrainingSpec dpo = training(1, 2);
        dpo.setMethod(TrainingMethod.DPO);
        assertThatThrownBy(() -> prepare(s, dpo, data, null, 0, 1)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("longer than dataset.maxSeqLength 64");
    }

    @Test
    void thePreferenceMethodsRefuseRecordsWithoutARejectedReply() throws IOException {
        Path data = dir.resolve("mixed.jsonl");
        Files.writeString(data, "{\"instruction\": \"Hi\", \"output\": \"Hello\"}\n");
        DatasetSpec s = spec();
        s.setEvalSplit(0.0);
        s.setTemplate("chatml");
        TrainingSpec orpo = training(1, 2);
        orpo.setMethod(TrainingMethod.ORPO);
        assertThatThrownBy(() -> prepare(s, orpo, data, null, 0, 1)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("has no rejected reply (format alpaca)")
                .hasMessageContaining("dataset.format: preference");
    }

    static List<String> sources(List<TokenizedSample> s) {
        List<String> out = new ArrayList<>();
        s.forEach(x -> out.add(x.source().toString()));
        return out;
    }
}
