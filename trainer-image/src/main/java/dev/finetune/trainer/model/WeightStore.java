package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.script.Kernels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The weights of a Hugging Face model directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}. Tensors are memory-mapped and turned into engine tensors of
 * the requested dtype one at a time.
 */
public final class WeightStore implements AutoCloseable {

    private final Path dir;
    private final Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    private final Map<Path, SafetensorsFile> files = new LinkedHashMap<>();

    private WeightStore(Path dir) {
        this.dir = dir;
    }

    public static WeightStore open(Path modelDir) {
        WeightStore store = new WeightStore(modelDir);
        try {
            Path single = modelDir.resolve("model.safetensors");
            Path index = modelDir.resolve("model.safetensors.index.json");
            if (Files.isRegularFile(index)) {
                JsonNode map;
                try {
                    map = new ObjectMapper().readTree(index.toFile()).get("weight_map");
                } catch (IOException e) {
                    throw new ModelFormatException(index + " is not valid JSON: " + e.getMessage(), e);
                }
                if (map == null || !map.isObject()) {
                    throw new ModelFormatException(index + " has no \"weight_map\" object");
                }
                map.fields().forEachRemaining(e -> {
                    Path shard = modelDir.resolve(e.getValue().asText());
                    if (!Files.isRegularFile(shard)) {
                        throw new ModelFormatException(index + ": tensor \"" + e.getKey() + "\" is mapped to "
                                + e.getValue().asText() + ", which does not exist in " + modelDir);
                    }
                    SafetensorsFile file = store.files.computeIfAbsent(shard, SafetensorsFile::open);
                    if (!file.entries().containsKey(e.getKey())) {
                        throw new ModelFormatException(index + ": tensor \"" + e.getKey() + "\" is mapped to "
                                + shard.getFileName() + ", which does not contain it");
                    }
                    store.byTensor.put(e.getKey(), file);
                });
            } else if (Files.isRegularFile(single)) {
                SafetensorsFile file = SafetensorsFile.open(single);
                store.files.put(single, file);
                file.entries().keySet().forEach(name -> store.byTensor.put(name, file));
            } else {
                throw new ModelFormatException("model directory " + modelDir
                        + " has neither model.safetensors nor model.safetensors.index.json"
                        + " (PyTorch .bin checkpoints are not read; convert them to safetensors)");
            }
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    public Set<String> names() {
        return new TreeSet<>(byTensor.keySet());
    }

    public SafetensorsFile.Entry entry(String name) {
        SafetensorsFile file = byTensor.get(name);
        if (file == null) {
            throw new ModelFormatException("model directory " + dir + " has no tensor \"" + name + "\"");
        }
        return file.entry(name);
    }

    public Path fileOf(String name) {
        entry(name);
        return byTensor.get(name).path();
    }

    /**
     * Loads {@code name} as a tensor of {@code type} (FLOAT32, BFLOAT16 or FLOAT16) after checking its shape.
     * bf16/fp16 tensors are built through the kernels (DJL aborts when creating them directly).
     */
    public NDArray load(String name, long[] expectedShape, DataType type, NDManager manager, Kernels kernels) {
        SafetensorsFile.Entry e = entry(name);
        if (expectedShape != null && !Arrays.equals(e.shape(), expectedShape)) {
            throw new ModelFormatException(fileOf(name) + ": tensor \"" + name + "\" has shape "
                    + Arrays.toString(e.shape()) + " but config.json implies " + Arrays.toString(expectedShape));
        }
        if (!Set.of(DType.F32, DType.BF16, DType.F16).contains(e.dtype())) {
            throw new ModelFormatException(fileOf(name) + ": tensor \"" + name + "\" has dtype " + e.dtype()
                    + "; only F32, BF16 and F16 weights are supported (quantized checkpoints are not)");
        }
        int count = Math.toIntExact(e.elements());
        ByteBuffer raw = byTensor.get(name).map(name);
        Shape shape = new Shape(e.shape());
        // fp32 staging buffer (a copy: the mapping stays read-only and can be released)
        NDArray fp32 = manager.create(DType.toFloat32Direct(e.dtype(), raw, count), shape, DataType.FLOAT32);
        if (type == DataType.FLOAT32) {
            return fp32;
        }
        try (NDArray staged = fp32) {
            NDArray cast = kernels.cast(staged, type);
            cast.attach(manager);
            return cast;
        }
    }

    @Override
    public void close() {
        files.values().forEach(SafetensorsFile::close);
        files.clear();
        byTensor.clear();
    }
}
