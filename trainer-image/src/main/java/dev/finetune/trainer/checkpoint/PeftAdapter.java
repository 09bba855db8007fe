package dev.finetune.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.api.trainer.TrainerJson;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The HF PEFT adapter format (docs/djl.md, "The PEFT adapter format"): {@code adapter_config.json} and
 * {@code adapter_model.safetensors} with keys {@code base_model.model.<module>.lora_A.weight} [r, in]
 * and {@code lora_B.weight} [out, r], fp32, scaling not baked in.
 */
public final class PeftAdapter {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    /** What was read back from disk. */
    public record Loaded(JsonNode config, Map<String, float[]> tensors, Map<String, long[]> shapes) {
        public int rank() {
            return config.path("r").asInt();
        }

        public double alpha() {
            return config.path("lora_alpha").asDouble();
        }

        public boolean rslora() {
            return config.path("use_rslora").asBoolean(false);
        }

        public List<String> targetModules() {
            List<String> out = new ArrayList<>();
            JsonNode t = config.get("target_modules");
            if (t != null && t.isArray()) {
                t.forEach(n -> out.add(n.asText().substring(n.asText().lastIndexOf('.') + 1))); // PEFT expands all-linear to full module paths
            } else if (t != null && t.isTextual()) {
                out.add(t.asText());
            }
            return out;
        }

        /** The settings to attach the adapter with (dropout and initialisation play no part in a loaded one). */
        public LoraSettings settings() {
            Set<TargetModule> targets = targetModules().stream().map(PeftAdapter::targetModule).collect(Collectors.toSet());
            return new LoraSettings(rank(), alpha(), 0.0, targets, bias(config.path("bias").asText("none")), rslora(),
                    config.path("use_dora").asBoolean(false), LoraInit.DEFAULT);
        }
    }

    private PeftAdapter() {}

    /** The module a PEFT target name denotes: q_proj ... down_proj, or all-linear. */
    public static TargetModule targetModule(String name) {
        for (TargetModule m : TargetModule.values()) {
            if (peftName(m).equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("lora.targetModules: unknown module \"" + name + "\"; use any of "
                + Arrays.stream(TargetModule.values()).map(PeftAdapter::peftName).toList());
    }

    private static LoraBias bias(String name) {
        for (LoraBias b : LoraBias.values()) {
            if (peftName(b).equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("lora.bias must be one of "
                + Arrays.stream(LoraBias.values()).map(PeftAdapter::peftName).toList() + ", not \"" + name + "\"");
    }

    /** The API enums carry PEFT's own spellings as their JSON names. */
    private static String peftName(Enum<?> value) {
        return TrainerJson.json().convertValue(value, String.class);
    }

    /** Writes the adapter, then reads it back and verifies it (names, shapes, non-zero lora_B unless allowed). */
    public static void write(Path dir, LoraModel lora, String baseModelName, boolean allowZeroB) {
        try {
            Files.createDirectories(dir);
            LoraSettings s = lora.settings();
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode c = mapper.createObjectNode();
            c.put("peft_type", "LORA");
            c.put("task_type", "CAUSAL_LM");
            c.put("base_model_name_or_path", baseModelName);
            c.put("r", s.rank());
            c.put("lora_alpha", s.alpha());
            c.put("lora_dropout", s.dropout());
            c.put("bias", peftName(s.bias()));
            c.put("use_rslora", s.useRslora());
            c.put("use_dora", s.useDora());
            var targets = c.putArray("target_modules");
            s.moduleNames().forEach(targets::add);
            c.putNull("modules_to_save");
            c.put("fan_in_fan_out", false);
            if (s.init() == LoraInit.GAUSSIAN) {
                c.put("init_lora_weights", "gaussian");
            } else {
                c.put("init_lora_weights", true);
            }
            c.put("inference_mode", true);
            c.putNull("layers_to_transform");
            c.putNull("layers_pattern");
            c.putObject("rank_pattern");
            c.putObject("alpha_pattern");
            SafetensorsWriter w = new SafetensorsWriter();
            Map<String, long[]> expected = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : lora.trainable().entrySet()) {
                long[] shape = e.getValue().getShape().getShape();
                expected.put(e.getKey(), shape);
                w.addFloats(e.getKey(), DType.F32, shape, e.getValue().toFloatArray());
            }
            // both files are written aside first: a full volume fails here and leaves the adapter before intact
            Path tmp = Files.createTempDirectory(dir, ".writing-");
            try {
                mapper.writeValue(tmp.resolve(CONFIG).toFile(), c);
                w.write(tmp.resolve(WEIGHTS));
            } catch (IOException e) {
                TrainingCheckpoint.deleteQuietly(tmp);
                throw e;
            }
            Files.move(tmp.resolve(CONFIG), dir.resolve(CONFIG), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp.resolve(WEIGHTS), dir.resolve(WEIGHTS), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.delete(tmp);
            verify(dir, expected, allowZeroB);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write adapter to " + dir, e);
        }
    }

    /** Reads the adapter in {@code dir} and attaches it, with its trained weights, to {@code base}. */
    public static LoraModel attach(DecoderModel base, Path dir) {
        Loaded loaded = read(dir);
        LoraModel lora = LoraModel.attach(base, loaded.settings(), 0);
        try {
            lora.load(loaded.tensors());
        } catch (IllegalArgumentException e) {
            lora.close();
            // name the adapter, and the two ways its tensors stop matching what its config and the model describe
            throw new IllegalArgumentException("adapter " + dir + " does not fit this model: " + e.getMessage()
                    + " (r " + loaded.rank() + " in " + CONFIG + "); was it trained on another base model, or was its "
                    + CONFIG + " edited?", e);
        }
        return lora;
    }

    public static Loaded read(Path dir) {
        Path config = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(config) || !Files.isRegularFile(weights)) {
            throw new IllegalArgumentException(dir + " is not a PEFT adapter directory (needs " + CONFIG + " and " + WEIGHTS + ")");
        }
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(config + " is not valid JSON", e);
        }
        if (!"LORA".equals(json.path("peft_type").asText())) {
            throw new IllegalArgumentException(config + ": peft_type is \"" + json.path("peft_type").asText() + "\", expected LORA");
        }
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (SafetensorsFile.Entry e : f.entries().values()) {
                tensors.put(e.name(), f.readFloats(e.name()));
                shapes.put(e.name(), e.shape());
            }
        }
        return new Loaded(json, tensors, shapes);
    }

    /**
     * Reads the adapter back and checks what PEFT would silently ignore: every expected key present
     * with its shape, no unexpected keys, and lora_B not all zeros (an all-zero B is a no-op adapter).
     */
    public static void verify(Path dir, Map<String, long[]> expected, boolean allowZeroB) {
        Loaded loaded = read(dir);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] shape = loaded.shapes().get(e.getKey());
            if (shape == null) {
                throw new IllegalStateException(dir.resolve(WEIGHTS) + " lacks " + e.getKey());
            }
            if (!Arrays.equals(shape, e.getValue())) {
                throw new IllegalStateException(dir.resolve(WEIGHTS) + ": " + e.getKey() + " has shape "
                        + Arrays.toString(shape) + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : loaded.shapes().keySet()) {
            if (!expected.containsKey(name)) {
                throw new IllegalStateException(dir.resolve(WEIGHTS) + " has unexpected tensor " + name);
            }
        }
        if (!allowZeroB) {
            boolean anyNonZero = false;
            for (Map.Entry<String, float[]> e : loaded.tensors().entrySet()) {
                if (e.getKey().endsWith(".lora_B.weight")) {
                    for (float v : e.getValue()) {
                        if (v != 0) {
                            anyNonZero = true;
                            break;
                        }
                    }
                }
            }
            if (!anyNonZero) {
                throw new IllegalStateException(dir.resolve(WEIGHTS)
                        + ": every lora_B is zero, so the adapter would not change the model (did training update it?)");
            }
        }
    }
}
