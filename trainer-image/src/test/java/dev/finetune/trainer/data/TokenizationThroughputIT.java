package dev.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.TrainOn;
import dev.finetune.api.v1alpha1.TrainingSpec;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokenization throughput of the whole data pipeline (read, convert, render the model's chat template for the
 * full conversation and every prefix, mask, tokenize), in records per second, on generated data shaped like
 * the peer script's ({@code tools/reference/chat_templates/bench_peer.py}, same generator and seed). The figure
 * in docs/benchmarks.md comes from 4000 records; the default (400) keeps it a quick smoke test.
 *
 * <pre>
 * mvn -B -q -pl trainer-image -am verify -Pslow -Dit.test=TokenizationThroughputIT -Dtest=none \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dbench.records=4000
 * </pre>
 */
class TokenizationThroughputIT {

    @TempDir
    Path dir;

    /** The same records bench_peer.py writes: alpaca-like single turns and 3-turn chats, LCG-generated words. */
    static Path generate(Path dir, int n) throws IOException {
        StringBuilder sb = new StringBuilder();
        long state = 12345;
        String[] vocab = "the of and to in is was for on that with as by at from this are be or an it which have not but"
                .split(" ");
        for (int k = 0; k < n; k++) {
            StringBuilder m = new StringBuilder("{\"messages\": [");
            int turns = k % 2 == 0 ? 1 : 3;
            for (int t = 0; t < turns; t++) {
                for (String role : new String[] {"user", "assistant"}) {
                    int words = role.equals("user") ? 20 : 60;
                    StringBuilder content = new StringBuilder();
                    for (int w = 0; w < words; w++) {
                        state = (state * 6364136223846793005L + 1442695040888963407L);
                        content.append(w > 0 ? " " : "").append(vocab[(int) ((state >>> 33) % vocab.length)]);
                    }
                    m.append(t > 0 || role.equals("assistant") ? ", " : "").append("{\"role\": \"").append(role)
                            .append("\", \"content\": \"").append(content).append("\"}");
                }
            }
            sb.append(m).append("]}\n");
        }
        Path p = dir.resolve("bench.jsonl");
        Files.writeString(p, sb);
        return p;
    }

    @Test
    void recordsPerSecond() throws IOException {
        // small by default: -Dtest='dev.finetune.trainer.data.**' selects this class in the fast suite too
        int n = Integer.getInteger("bench.records", 400);
        Path data = generate(dir, n);
        DatasetSpec spec = new DatasetSpec();
        spec.setMaxSeqLength(1024);
        spec.setEvalSplit(0.0);
        spec.setTrainOn(TrainOn.ALL_ASSISTANT_TURNS);
        var tokenizer = TestModels.tokenizer(TestModels.LLAMA3);
        DatasetPipeline.prepare(spec, new TrainingSpec(), tokenizer, generate(Files.createDirectories(dir.resolve("warm-up")), 200), null, 0, 1); // warm-up
        long t0 = System.nanoTime();
        PreparedDataset d = DatasetPipeline.prepare(spec, new TrainingSpec(), tokenizer, data, null, 0, 1);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(d.train()).hasSize(n);
        System.out.println(DatasetReportRenderer.render(d.report()));
        System.out.printf(Locale.ROOT, "BENCH data pipeline (Llama-3 template + tokenizer, %d records, %d cores): %.2f s, %.0f records/s, %.0f tokens/s%n",
                n, Runtime.getRuntime().availableProcessors(), seconds, n / seconds, d.report().totalTokens() / seconds);
    }
}
