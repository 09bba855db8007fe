package dev.finetune.trainer.parity;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.Linear;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LoRA, rsLoRA and DoRA against PEFT 0.17.1 with fixed, non-zero adapter weights (and, for DoRA, a
 * magnitude vector that differs from the row norms of the adapted weight)
 * ({@code goldens/parity/<arch>/<case>/}): the adapter PEFT saved is loaded into the Java model and must
 * give PEFT's logits and merged weights; an adapter the Java trainer writes must have PEFT's keys,
 * shapes and config.
 */
class LoraParityTest {

    @TempDir
    Path tmp;

    static Path dir(String lcase) {
        return Goldens.root().resolve(lcase);
    }

    static JsonNode meta(String lcase) {
        return Goldens.json(dir(lcase).resolve("golden.json"));
    }

    static List<String> allCases() {
        return Goldens.strings(Goldens.index().get("lora_cases"));
    }

    /** Every LoRA case: plain LoRA, rsLoRA and DoRA, all-linear and q_proj+v_proj. */
    static List<String> cases() {
        return allCases();
    }

    static List<String> doraCases() {
        return allCases().stream().filter(c -> meta(c).get("use_dora").asBoolean()).toList();
    }

    /** The settings a user would write in the FineTuneJob for this case. */
    static LoraSettings settings(JsonNode meta) {
        JsonNode t = meta.get("target_modules");
        List<String> names = t.isTextual() ? List.of(t.asText()) : Goldens.strings(t);
        Set<TargetModule> targets = names.stream().map(PeftAdapter::targetModule).collect(Collectors.toSet());
        return new LoraSettings(meta.get("r").asInt(), meta.get("lora_alpha").asDouble(), 0.0, targets, LoraBias.NONE,
                meta.get("use_rslora").asBoolean(), meta.get("use_dora").asBoolean(), LoraInit.DEFAULT);
    }

    static Map<String, long[]> peftShapes(String lcase) {
        Map<String, long[]> out = new TreeMap<>();
        Goldens.tensors(dir(lcase).resolve("adapter/adapter_model.safetensors")).forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }

    static DecoderModel load(String lcase, NDManager m) {
        return DecoderModel.load(dir(lcase).resolve(meta(lcase).get("model_dir").asText()).normalize(), DataType.FLOAT32, m,
                ParityEngine.kernels());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void scalingIsPefts(String lcase) {
        JsonNode meta = meta(lcase);
        assertThat(settings(meta).scaling()).isEqualTo(meta.get("scaling").asDouble());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void adaptedLogitsMatchPeft(String lcase) {
        JsonNode meta = meta(lcase);
        Map<String, Goldens.Tensor> base = Goldens.tensors(dir(lcase).resolve(meta.get("base_inputs").asText()).normalize());
        Map<String, Goldens.Tensor> g = Goldens.tensors(dir(lcase).resolve("golden.safetensors"));
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(lcase, m);
                LoraModel lora = LoraModel.attach(model, settings(meta), 1)) {
            // the Java trainer adapts exactly the modules PEFT adapted (all-linear never includes lm_head)
            assertThat(new TreeSet<>(lora.trainable().keySet())).containsExactlyElementsOf(peftShapes(lcase).keySet());
            lora.load(PeftAdapter.read(dir(lcase).resolve("adapter")).tensors());
            ModelParityTest.checkBatchLogits(lcase + " adapted logits_batch (real tokens)", model, m, base, g);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void mergedWeightsMatchPeftMergeAndUnload(String lcase) {
        JsonNode meta = meta(lcase);
        Map<String, Goldens.Tensor> g = Goldens.tensors(dir(lcase).resolve("golden.safetensors"));
        String key = "model.layers.0.self_attn.q_proj.weight";
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(lcase, m);
                LoraModel lora = LoraModel.attach(model, settings(meta), 1)) {
            lora.load(PeftAdapter.read(dir(lcase).resolve("adapter")).tensors());
            lora.merge();
            Linear q = model.linears().stream().filter(l -> (l.path() + ".weight").equals(key)).findFirst().orElseThrow();
            Tolerance.of("merged_weight").check(lcase + " merged " + key, q.weight().toFloatArray(),
                    Goldens.require(g, "merged." + key).floats());
        }
    }

    /** Reading an adapter PEFT saved must recover the settings it was trained with. */
    @ParameterizedTest
    @MethodSource("cases")
    void peftSavedAdapterReadsBackWithItsSettings(String lcase) {
        JsonNode meta = meta(lcase);
        LoraSettings expected = settings(meta);
        LoraSettings read = PeftAdapter.read(dir(lcase).resolve("adapter")).settings();
        assertThat(read.rank()).isEqualTo(expected.rank());
        assertThat(read.alpha()).isEqualTo(expected.alpha());
        assertThat(read.useRslora()).isEqualTo(expected.useRslora());
        assertThat(read.useDora()).isEqualTo(expected.useDora());
        assertThat(read.scaling()).isEqualTo(expected.scaling());
        assertThat(read.moduleNames()).containsExactlyElementsOf(expected.moduleNames());
    }

    /** The adapter the Java trainer writes has exactly PEFT's tensor names, shapes, dtype and config keys. */
    @ParameterizedTest
    @MethodSource("cases")
    void javaWrittenAdapterHasPeftsNamesShapesAndConfig(String lcase) {
        JsonNode meta = meta(lcase);
        Path out = tmp.resolve("adapter");
        PeftAdapter.Loaded peft = PeftAdapter.read(dir(lcase).resolve("adapter"));
        try (NDManager m = ParityEngine.manager().newSubManager();
                DecoderModel model = load(lcase, m);
                LoraModel lora = LoraModel.attach(model, settings(meta), 1)) {
            lora.load(peft.tensors());
            PeftAdapter.write(out, lora, "finetune-parity", false);
        }
        Map<String, Goldens.Tensor> written = Goldens.tensors(out.resolve(PeftAdapter.WEIGHTS));
        Map<String, long[]> peftShapes = peftShapes(lcase);
        assertThat(new TreeSet<>(written.keySet())).containsExactlyElementsOf(peftShapes.keySet());
        for (Map.Entry<String, Goldens.Tensor> e : written.entrySet()) {
            assertThat(e.getValue().dtype()).as(e.getKey()).isEqualTo("F32");
            assertThat(e.getValue().shape()).as(e.getKey()).containsExactly(peftShapes.get(e.getKey()));
            assertThat(e.getValue().floats()).as(e.getKey()).containsExactly(peft.tensors().get(e.getKey()));
        }
        JsonNode javaConfig = Goldens.json(out.resolve(PeftAdapter.CONFIG));
        JsonNode peftConfig = Goldens.json(dir(lcase).resolve("adapter").resolve(PeftAdapter.CONFIG));
        for (String field : List.of("peft_type", "task_type", "r", "use_rslora", "use_dora", "bias", "fan_in_fan_out",
                "modules_to_save")) {
            assertThat(javaConfig.get(field)).as("adapter_config.json " + field).isNotNull();
            assertThat(javaConfig.get(field).asText()).as("adapter_config.json " + field).isEqualTo(peftConfig.get(field).asText());
        }
        assertThat(javaConfig.get("lora_alpha").asDouble()).isEqualTo(peftConfig.get("lora_alpha").asDouble());
        // the same set of modules, whether PEFT spelled them as names or as full paths (all-linear)
        assertThat(lastSegments(javaConfig.get("target_modules"))).isEqualTo(lastSegments(peftConfig.get("target_modules")));
    }

    private static Set<String> lastSegments(JsonNode modules) {
        return Goldens.strings(modules).stream().map(s -> s.substring(s.lastIndexOf('.') + 1))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** DoRA is compared on biased layers too (qwen2 q/k/v biases, llama attention_bias + mlp_bias). */
    @Test
    void doraCasesIncludeBiasedLayers() {
        List<String> archs = doraCases().stream().map(c -> c.substring(0, c.indexOf('/'))).distinct().toList();
        assertThat(archs).contains("llama", "llama-tied-rope3", "qwen2");
        assertThat(doraCases()).allSatisfy(c -> assertThat(peftShapes(c).keySet())
                .anyMatch(k -> k.endsWith(".lora_magnitude_vector")));
    }
}
