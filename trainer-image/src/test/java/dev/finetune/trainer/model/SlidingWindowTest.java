package dev.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.testing.Engine;
import dev.finetune.trainer.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mistral's sliding-window attention (HF: key j visible from query i when i - window < j <= i). */
class SlidingWindowTest {

    @TempDir
    Path tmp;

    Path mistral(int layers, int window) throws Exception {
        TinyModels.Spec llama = TinyModels.Spec.llama().withSize(64, 32, 64, layers, 4, 2);
        TinyModels.Spec spec = new TinyModels.Spec("mistral", llama.vocab(), llama.hidden(), llama.intermediate(),
                llama.layers(), llama.heads(), llama.kvHeads(), null, false, "F32", 17, 1);
        Path dir = TinyModels.write(tmp.resolve("mistral" + layers), spec);
        String config = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), config.replace("\"hidden_act\"", "\"sliding_window\" : " + window + ",\n  \"hidden_act\""));
        return dir;
    }

    @Test
    void aTokenOutsideTheWindowIsInvisibleToAOneLayerModel() throws Exception {
        Path dir = mistral(1, 3);
        assertThat(ModelConfig.read(dir).slidingWindow()).isEqualTo(3);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            long[] a = {5, 6, 7, 8, 9, 10, 11, 12};
            long[] b = a.clone();
            b[2] = 40;
            float[] la = DecoderModelTest.logits(model, m, a);
            float[] lb = DecoderModelTest.logits(model, m, b);
            int v = 64;
            // positions 2, 3, 4 see token 2; from position 5 on it is 3 or more back: outside the window
            for (int t = 0; t < 8; t++) {
                boolean differs = false;
                for (int j = 0; j < v; j++) {
                    differs |= la[t * v + j] != lb[t * v + j];
                }
                assertThat(differs).as("position %d", t).isEqualTo(t >= 2 && t <= 4);
            }
        }
    }

    @Test
    void cachedGenerationPastTheWindowEqualsRecomputing() throws Exception {
        Path dir = mistral(2, 4);
        try (NDManager m = Engine.manager().newSubManager();
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, m, Engine.kernels())) {
            long[] prompt = {1, 10, 20, 30, 40, 50};
            List<Long> cached = new Generator(model).generate(prompt, Generator.Options.greedy(5), Set.of());
            List<Long> seq = new ArrayList<>();
            for (long p : prompt) {
                seq.add(p);
            }
            List<Long> slow = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                long[] ids = seq.stream().mapToLong(Long::longValue).toArray();
                float[] l = DecoderModelTest.logits(model, m, ids);
                int base = (ids.length - 1) * 64;
                int best = 0;
                for (int j = 1; j < 64; j++) {
                    if (l[base + j] > l[base + best]) {
                        best = j;
                    }
                }
                slow.add((long) best);
                seq.add((long) best);
            }
            assertThat(cached).containsExactlyElementsOf(slow);
        }
    }
}
