package dev.finetune.nativecalls;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.bench.BenchArgs;
import dev.finetune.trainer.bench.RandomLlama;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.quickstart.QuickstartAssets;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JNI calls and host reads per optimizer step of the trainer (run under {@link NativeCallAgent}): a random
 * Llama of the given depth and width, LoRA r16 on all linear layers, fp32, full-length rows of random tokens.
 * The trainer logs every {@code log} steps ({@code training.logEverySteps}; default 10, the spec's default); the
 * counters are read at each log step, so a figure is one logging interval divided by its steps. The first interval
 * (kernel compilation, allocator growth) is left out; the figures are the median of the other whole intervals.
 * Arguments {@code key=value}: layers, hidden, intermediate, heads, kvHeads, vocab, seq, batch, log, steps (default
 * three intervals, at least 5).
 */
public final class CallsPerStep {

    private CallsPerStep() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse(args);
        RandomLlama llama = RandomLlama.from(a, new RandomLlama(new QuickstartAssets.Shape(64, 128, 28, 4, 2), 151936));
        int seq = a.integer("seq", 128);
        int batch = a.integer("batch", 1);
        int log = a.integer("log", 10);
        int steps = a.integer("steps", Math.max(5, 3 * log));
        if (log < 1 || steps < 2 * log) {
            throw new IllegalArgumentException("log=" + log + " steps=" + steps
                    + ": log must be at least 1 and steps at least 2 x log (the first interval is left out)");
        }
        Path dir = Files.createTempDirectory("native-calls-");
        llama.write(dir);
        BatchSource source = llama.randomTokens(steps, batch, seq);
        List<Map<String, Long>> snapshots = new ArrayList<>();
        List<Long> snapshotSteps = new ArrayList<>();
        TrainingListener count = new TrainingListener() {
            @Override
            public void onStart(Trainer trainer, long totalSteps, int totalEpochs) {
                snapshots.add(NativeCalls.snapshot());
                snapshotSteps.add(0L);
            }

            @Override
            public void onStep(Trainer trainer, StepMetrics metrics) {
                snapshots.add(NativeCalls.snapshot());
                snapshotSteps.add(metrics.step());
            }
        };
        int tensors;
        try (NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel model = DecoderModel.load(dir, DataType.FLOAT32, manager, kernels);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(16, 32, TargetModule.ALL_LINEAR), 1)) {
            tensors = lora.trainable().size();
            TrainingSettings settings = new TrainingSettings(1, 1e-4, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 1, log, 0,
                    steps, 0, 0);
            new Trainer(lora, settings, source, List.of(), List.of(count)).run();
        }
        List<Double> calls = new ArrayList<>();
        List<Double> reads = new ArrayList<>();
        Map<String, Double> lastStep = new LinkedHashMap<>();
        // the first interval (index 1) compiles kernels: left out; so is a last interval shorter than the others
        for (int s = 2; s < snapshots.size(); s++) {
            long interval = snapshotSteps.get(s) - snapshotSteps.get(s - 1);
            if (interval != log) {
                continue;
            }
            Map<String, Long> before = snapshots.get(s - 1);
            Map<String, Long> after = snapshots.get(s);
            long total = 0;
            long read = 0;
            lastStep.clear();
            for (var e : after.entrySet()) {
                long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                total += d;
                if (NativeCalls.HOST_READS.contains(e.getKey())) {
                    read += d;
                }
                if (d > 0) {
                    lastStep.put(e.getKey(), (double) d / interval);
                }
            }
            calls.add((double) total / interval);
            reads.add((double) read / interval);
        }
        if (calls.isEmpty()) {
            throw new IllegalStateException("no whole logging interval after the first: raise steps");
        }
        Map<String, Double> top = new LinkedHashMap<>();
        lastStep.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())).limit(12)
                .forEach(e -> top.put(e.getKey(), e.getValue()));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("layers", llama.shape().layers());
        result.put("loraTensors", tensors);
        result.put("seq", seq);
        result.put("batch", batch);
        result.put("logEverySteps", log);
        result.put("callsPerStep", median(calls));
        result.put("hostReadsPerStep", median(reads));
        result.put("callsPerStepEach", calls);
        result.put("topCallsPerStepLastInterval", top);
        System.out.println(new ObjectMapper().writeValueAsString(result));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
