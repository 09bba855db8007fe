package dev.finetune.trainer.testing;

import dev.finetune.trainer.quickstart.QuickstartAssets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The volumes the CLI tests run jobs on: {@code models/tiny-qwen3}, a one-layer Qwen3-shaped model small enough for
 * a whole {@code finetune run} per test, and {@code data/train.jsonl}, the quickstart's counting records.
 */
public record CliVolumes(Path models, Path data) {

    /** Hidden 32, intermediate 48, one layer, 4 heads, 2 KV heads. */
    public static final QuickstartAssets.Shape TINY_QWEN3 = new QuickstartAssets.Shape(32, 48, 1, 4, 2);

    /** The tiny model's directory name under {@code models}, as the CLI tests' job files name it. */
    public static final String MODEL = "tiny-qwen3";

    /** Writes the tiny model (weights seeded 5) into {@code dir}. */
    public static Path writeModel(Path dir) throws IOException {
        return QuickstartAssets.writeModel(dir, TINY_QWEN3, 5);
    }

    /** Writes {@code root/models/tiny-qwen3} and {@code root/data/train.jsonl} with {@code records} records (seeded 3). */
    public static CliVolumes write(Path root, int records) throws IOException {
        Path models = root.resolve("models");
        Path data = root.resolve("data");
        writeModel(models.resolve(MODEL));
        QuickstartAssets.writeDataset(data.resolve("train.jsonl"), records, 3);
        return new CliVolumes(models, data);
    }

    /** {@code --volume} arguments of {@code finetune run} for these volumes and {@code outputs}. */
    public List<String> volumeArgs(Path outputs) {
        return List.of("--volume", "models=" + models, "--volume", "data=" + data, "--volume", "outputs=" + outputs);
    }

    /** The claim → directory map of a local run, as {@code TrainerConfigs.forLocalRun} takes it. */
    public Map<String, Path> claims(Path outputs) {
        return Map.of("models", models, "data", data, "outputs", outputs);
    }
}
