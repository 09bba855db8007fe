package dev.finetune.trainer.data.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatasetReportRendererTest {

    @Test
    void rendersEverySection() {
        DatasetReport r = new DatasetReport("/data/train.jsonl", List.of("train.jsonl"), Map.of("alpaca", 3),
                "model (tokenizer_config.json)", "ALL_ASSISTANT_TURNS", Map.of("eos", "<|im_end|> (151645)"), 4, 1,
                List.of("train.jsonl:2 (record 1): field 'output': is missing"), Map.of("duplicates", 0, "tooShort", 0,
                        "tooLong", 0, "belowTopN", 0), 0, 2, 1, "split 0.1 of the dataset, seed 42", 32, 1,
                new DatasetReport.LengthStats(10, 20.5, 12, 31, 31),
                List.of(new DatasetReport.Bucket(0, 16, 1), new DatasetReport.Bucket(16, 33, 1),
                        new DatasetReport.Bucket(33, Integer.MAX_VALUE, 0)), 41, 9,
                new DatasetReport.Packing(true, "dataset.packing: true", 1, 41 / 64.0),
                List.of(new DatasetReport.Stage("all", 1.0, 3, null, 2)),
                new DatasetReport.MaskedSample("train.jsonl:1 (record 0)", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n⟦Hello<|im_end|>⟧\n", 12, 2));
        String text = DatasetReportRenderer.render(r);
        assertThat(text).contains("4 read, 1 skipped as invalid")
                .contains("skipped: train.jsonl:2 (record 1): field 'output': is missing")
                .contains("2 train, 1 eval (split 0.1 of the dataset, seed 42)")
                .contains("maxSeqLength     32; 1 train samples truncated")
                .contains("label tokens     9 of 41 (22.0%)")
                .contains("0-15")
                .contains("> 32")
                .contains("    | <|im_start|>assistant")
                .contains("⟦Hello<|im_end|>⟧")
                .contains("packing          on: 1 rows, 64.1% full (dataset.packing: true)");
    }
}
