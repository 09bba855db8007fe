package dev.finetune.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsFile;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Full resumable checkpoints: {@code <output>/checkpoints/checkpoint-<step>/} holding the LoRA weights
 * (PEFT format, so any checkpoint is also a usable adapter), the AdamW moments and step count
 * ({@code optimizer.safetensors}), and {@code trainer_state.json} (epoch, position in the epoch,
 * global step, seed, running epoch loss, best eval loss, early-stopping counter, history, and in fp16 the
 * loss-scaling state: scale, clean-step count, skipped steps). Learning-rate schedule and dropout masks are
 * functions of the step, the skipped-step count and the seed, so nothing else is needed to continue exactly.
 * A {@code trainer_state.json} without {@code lossScale} resumes
 * an fp16 run from the default scale. Each checkpoint is written into a temporary directory and renamed into
 * place, so a crash never leaves a half-written checkpoint that looks complete.
 *
 * <p>The last file written into a checkpoint is {@code checksums.sha256} (the SHA-256 of every other file, in
 * {@code sha256sum} format, so {@code sha256sum -c checksums.sha256} checks it by hand), itself written to a
 * temporary name and renamed. A checkpoint whose files no longer match (truncated, overwritten, deleted)
 * is corrupt: {@link #latestIntact} skips it and resumes from the one before. A checkpoint without the file
 * (written by an earlier trainer) is taken as it is.
 */
public final class TrainingCheckpoint {

    public static final String DIR = "checkpoints";
    public static final String STATE = "trainer_state.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String CHECKSUMS = "checksums.sha256";
    private static final String PREFIX = "checkpoint-";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** trainer_state.json */
    public record SavedState(int formatVersion, TrainingState state, long optimizerSteps, long totalSteps,
            String baseModel) {}

    private TrainingCheckpoint() {}

    /** Writes a checkpoint of the trainer's current state; returns its directory. */
    public static Path save(Path outputDir, Trainer trainer, String baseModel) {
        TrainingState state = trainer.state();
        Path root = outputDir.resolve(DIR);
        Path target = root.resolve(PREFIX + state.globalStep());
        // one writer (rank 0): a fixed name, left over only by a crash, which this replaces
        Path tmp = root.resolve(".tmp-" + PREFIX + state.globalStep());
        try {
            Files.createDirectories(root);
            deleteTree(tmp);
            Files.createDirectory(tmp);
            PeftAdapter.write(tmp, trainer.lora(), baseModel, true);
            SafetensorsWriter w = new SafetensorsWriter().metadata("step", Long.toString(trainer.optimizer().stepCount()));
            for (Map.Entry<String, NDArray> e : trainer.optimizer().firstMoments().entrySet()) {
                w.addFloats("exp_avg." + e.getKey(), DType.F32, e.getValue().getShape().getShape(), e.getValue().toFloatArray());
            }
            for (Map.Entry<String, NDArray> e : trainer.optimizer().secondMoments().entrySet()) {
                w.addFloats("exp_avg_sq." + e.getKey(), DType.F32, e.getValue().getShape().getShape(), e.getValue().toFloatArray());
            }
            w.write(tmp.resolve(OPTIMIZER));
            JSON.writeValue(tmp.resolve(STATE).toFile(),
                    new SavedState(1, state, trainer.optimizer().stepCount(), trainer.totalSteps(), baseModel));
            CheckpointChecksums.write(tmp, CHECKSUMS);
            if (Files.exists(target)) {
                deleteTree(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            // a full volume gets back the space of the partial copy; the checkpoints before it are untouched
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + io.getMessage(), io);
        }
    }

    /** Complete checkpoints under {@code outputDir}, oldest first. */
    public static List<Path> list(Path outputDir) {
        Path root = outputDir.resolve(DIR);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(p -> p.getFileName().toString().startsWith(PREFIX))
                    .filter(p -> Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparingLong(TrainingCheckpoint::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Optional<Path> latest(Path outputDir) {
        List<Path> all = list(outputDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** A checkpoint that failed its checksums, and why. */
    public record Rejected(Path checkpoint, String problem) {}

    /**
     * The checkpoint to resume from: the newest whose files match its checksums (empty when none does, or
     * there is none), and the newer ones skipped as corrupt, newest first.
     */
    public record Resumable(Optional<Path> checkpoint, List<Rejected> rejected) {}

    /** The newest intact checkpoint under {@code outputDir}; corrupt newer ones are reported, never touched. */
    public static Resumable latestIntact(Path outputDir) {
        return intactAtOrBefore(outputDir, Long.MAX_VALUE);
    }

    /**
     * The newest intact checkpoint whose step is at most {@code step} (the one the operator names after a restart,
     * or an older one when that is corrupt); corrupt ones on the way are reported, never touched.
     */
    public static Resumable intactAtOrBefore(Path outputDir, long step) {
        List<Path> all = list(outputDir).stream().filter(c -> stepOf(c) <= step).toList();
        List<Rejected> rejected = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Path checkpoint = all.get(i);
            Optional<String> problem = verify(checkpoint);
            if (problem.isEmpty()) {
                return new Resumable(Optional.of(checkpoint), rejected);
            }
            rejected.add(new Rejected(checkpoint, problem.get()));
        }
        return new Resumable(Optional.empty(), rejected);
    }

    /**
     * What is wrong with a checkpoint's files (a file missing, shorter or longer, or different from when it was
     * written), or empty when they match {@code checksums.sha256} or the checkpoint predates checksums.
     */
    public static Optional<String> verify(Path checkpoint) {
        if (!Files.exists(checkpoint.resolve(CHECKSUMS))) {
            return Optional.empty();
        }
        return CheckpointChecksums.verify(checkpoint, CHECKSUMS);
    }

    public static long stepOf(Path checkpoint) {
        String name = checkpoint.getFileName().toString();
        try {
            return Long.parseLong(name.substring(PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Deletes all but the newest {@code keep} checkpoints (and stale temporary ones); never the one given. */
    public static List<Path> retain(Path outputDir, int keep, Path protect) {
        List<Path> removed = new ArrayList<>();
        List<Path> all = new ArrayList<>(list(outputDir));
        int excess = all.size() - Math.max(1, keep);
        for (int i = 0; i < excess; i++) {
            Path p = all.get(i);
            if (!p.equals(protect)) {
                deleteTree(p);
                removed.add(p);
            }
        }
        try (Stream<Path> dirs = Files.list(outputDir.resolve(DIR))) {
            dirs.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(TrainingCheckpoint::deleteTree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return removed;
    }

    public static SavedState readState(Path checkpoint) {
        try {
            return JSON.readValue(checkpoint.resolve(STATE).toFile(), SavedState.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + checkpoint.resolve(STATE) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Restores LoRA weights, optimizer moments and loop state into a freshly built trainer. Every tensor of the
     * checkpoint must find its place: one the trainer no longer trains (lora.targetModules narrowed, lora.bias changed)
     * would otherwise be dropped, and the run would go on without what it learned there.
     *
     * @throws IllegalArgumentException when the checkpoint's tensors are not the trainer's
     */
    public static void restore(Path checkpoint, Trainer trainer) {
        SavedState saved = readState(checkpoint);
        PeftAdapter.Loaded adapter = PeftAdapter.read(checkpoint);
        Set<String> trained = trainer.lora().trainable().keySet();
        List<String> untrained = adapter.tensors().keySet().stream().filter(name -> !trained.contains(name)).toList();
        if (!untrained.isEmpty()) {
            throw new IllegalArgumentException("the checkpoint holds " + untrained.size() + " adapter tensor"
                    + (untrained.size() == 1 ? "" : "s") + " that the job's LoRA settings no longer train (e.g. "
                    + untrained.getFirst() + "; were lora.targetModules or lora.bias changed?), and resuming would "
                    + "drop what they learned");
        }
        trainer.lora().load(adapter.tensors());
        Map<String, float[]> m = new LinkedHashMap<>();
        Map<String, float[]> v = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint.resolve(OPTIMIZER))) {
            for (String name : trainer.lora().trainable().keySet()) {
                m.put(name, f.readFloats("exp_avg." + name));
                v.put(name, f.readFloats("exp_avg_sq." + name));
            }
        }
        trainer.optimizer().restore(saved.optimizerSteps(), m, v);
        trainer.resume(saved.state());
    }

    /** Deletes what it can of a partial write; a failure to delete leaves it for the next run's clean-up. */
    static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (UncheckedIOException ignored) {
            // retain() removes stale temporary directories at the next checkpoint
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
