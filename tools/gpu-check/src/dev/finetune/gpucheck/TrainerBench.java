package dev.finetune.gpucheck;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.dist.nccl.CudaRuntime;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.ComputeDtype;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.CausalLmLoss;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java side of the side-by-side: LoRA r16 (alpha 32, all linear layers, no dropout) on the model directory
 * tools/gpu-check/hf_side.py wrote (random weights, the committed config), the same token file both sides read,
 * AdamW at a constant learning rate, no gradient checkpointing. Warmup steps first, then timed steps; then the
 * no-grad forward of the same batch alone, which splits a step into forward and backward + optimizer.
 * Memory: on a GPU the peak of (total - free) device memory, sampled every millisecond with cudaMemGetInfo as
 * the HF side samples torch.cuda.mem_get_info (context, allocator cache and tensors alike); on CPU the process's
 * peak resident set (VmHWM) as the HF side reads ru_maxrss.
 */
final class TrainerBench {

    record Options(Path model, Path tokens, String precision, int seq, int batch, int warmup, int steps, Path out) {}

    private TrainerBench() {}

    static void run(Options o, NDManager manager, Kernels kernels) throws IOException {
        boolean gpu = manager.getDevice().isGpu();
        MemorySampler sampler = gpu ? MemorySampler.start() : null;
        int[] tokens = readTokens(o.tokens());
        int perBatch = o.batch() * o.seq();
        int batches = o.warmup() + o.steps();
        if (tokens.length < perBatch * batches) {
            throw new IllegalArgumentException(o.tokens() + " holds " + tokens.length + " tokens; " + batches + " batches of "
                    + o.batch() + " x " + o.seq() + " need " + perBatch * batches + " (hf_side.py tokens --count)");
        }
        List<Batch> data = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            int[] ids = Arrays.copyOfRange(tokens, b * perBatch, (b + 1) * perBatch);
            int[] positions = new int[perBatch];
            int[] segments = new int[perBatch];
            for (int i = 0; i < perBatch; i++) {
                positions[i] = i % o.seq();
                segments[i] = 1;
            }
            data.add(new Batch(o.batch(), o.seq(), ids, ids.clone(), positions, segments));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("side", "java");
        result.put("device", manager.getDevice().toString());
        result.put("precision", o.precision());
        result.put("seq", o.seq());
        result.put("batch", o.batch());
        result.put("warmupSteps", o.warmup());
        result.put("steps", o.steps());
        long loadStarted = System.nanoTime();
        try (DecoderModel model = DecoderModel.load(o.model(), ComputeDtype.parse(o.precision()), manager, kernels);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(16, 32, TargetModule.ALL_LINEAR), 1)) {
            result.put("loadSeconds", (System.nanoTime() - loadStarted) / 1e9);
            result.put("parameters", model.parameterCount());
            result.put("trainableParameters", lora.trainableParameterCount());
            TrainingSettings settings = new TrainingSettings(1, 1e-4, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 1, 1, 0,
                    0, 0, 0);
            List<Double> losses = new ArrayList<>();
            List<Double> stepSeconds = new ArrayList<>();
            TrainingListener timing = new TrainingListener() {
                long last = System.nanoTime();

                @Override
                public void onStart(Trainer trainer, long totalSteps, int totalEpochs) {
                    last = System.nanoTime();
                }

                @Override
                public void onStep(Trainer trainer, StepMetrics metrics) {
                    long now = System.nanoTime(); // the step read its loss back: its kernels have finished
                    stepSeconds.add((now - last) / 1e9);
                    losses.add(metrics.loss());
                    last = now;
                }
            };
            new Trainer(lora, settings.withMaxSteps(batches), source(data), List.of(), List.of(timing)).run();
            List<Double> timed = stepSeconds.subList(o.warmup(), stepSeconds.size());
            double trainSeconds = timed.stream().mapToDouble(Double::doubleValue).sum();
            double forward = forwardSeconds(model, kernels, manager, data.get(0), 3);
            double median = median(timed);
            result.put("losses", losses);
            result.put("stepSeconds", stepSeconds);
            result.put("tokensPerSecond", o.steps() * (double) perBatch / trainSeconds);
            result.put("breakdown", Map.of("firstStepSeconds", stepSeconds.get(0), "medianStepSeconds", median,
                    "forwardSeconds", forward, "backwardAndOptimizerSeconds", median - forward));
        }
        if (sampler != null) {
            sampler.stop();
            result.put("memoryKind", "peak device memory in use (cudaMemGetInfo total - free, sampled every 1 ms)");
            result.put("peakMemoryMiB", sampler.peakUsed() / 1048576.0);
            result.put("memoryBeforeModelMiB", sampler.baseline() / 1048576.0);
        } else {
            result.put("memoryKind", "peak resident set of the process (VmHWM)");
            result.put("peakMemoryMiB", peakRssKiB() / 1024.0);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(o.out().toFile(), result);
        System.out.println("java side: " + result);
    }

    private static BatchSource source(List<Batch> data) {
        return new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return data.size();
            }

            @Override
            public Batch batch(int epoch, int index) {
                return data.get(index);
            }
        };
    }

    /** Median time of a no-grad forward and loss of {@code batch} (the loss read back ends each repeat). */
    private static double forwardSeconds(DecoderModel model, Kernels kernels, NDManager manager, Batch batch, int repeats) {
        CausalLmLoss loss = new CausalLmLoss(kernels, model.lmHead(), model.config().vocabSize());
        CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
        long[] ids = new long[batch.inputIds().length];
        long[] positions = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = batch.inputIds()[i];
            positions[i] = batch.positionIds()[i];
        }
        Shape shape = new Shape(batch.rows(), batch.length());
        List<Double> times = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            try (NDManager m = manager.newSubManager()) {
                long started = System.nanoTime();
                double nll = Autograd.withoutGrad(() -> loss.nllSum(model.hiddenStates(m.create(ids, shape),
                        m.create(positions, shape), null, null, ForwardContext.inference(kernels)), targets));
                times.add((System.nanoTime() - started) / 1e9);
                Report.require(Double.isFinite(nll), "forward loss is " + nll);
            }
        }
        return median(times);
    }

    static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    /** int32 little-endian token ids, as hf_side.py writes them. */
    static int[] readTokens(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[bytes.remaining() / 4];
        bytes.asIntBuffer().get(out);
        return out;
    }

    static long peakRssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("/proc/self/status has no VmHWM line");
    }

    /** Peak of total - free device memory, polled every millisecond on a daemon thread. */
    static final class MemorySampler {
        private final MethodHandle memGetInfo;
        private final AtomicLong peak = new AtomicLong();
        private final long baseline;
        private volatile boolean running = true;
        private final Thread thread;

        private MemorySampler(MethodHandle memGetInfo) {
            this.memGetInfo = memGetInfo;
            this.baseline = used();
            peak.set(baseline);
            thread = Thread.ofPlatform().daemon().name("gpu-memory-sampler").start(() -> {
                while (running) {
                    long u = used();
                    peak.accumulateAndGet(u, Math::max);
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        static MemorySampler start() {
            return new MemorySampler(NativeLibraryLocator.ofProcess().locate(CudaRuntime.SPEC).bind("cudaMemGetInfo",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)));
        }

        private long used() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment free = arena.allocate(JAVA_LONG);
                MemorySegment total = arena.allocate(JAVA_LONG);
                int error = (int) memGetInfo.invokeExact(free, total);
                if (error != CudaRuntime.SUCCESS) {
                    throw new IllegalStateException("cudaMemGetInfo failed: cudaError " + error);
                }
                return total.get(JAVA_LONG, 0) - free.get(JAVA_LONG, 0);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void stop() {
            running = false;
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            peak.accumulateAndGet(used(), Math::max);
        }

        long peakUsed() {
            return peak.get();
        }

        long baseline() {
            return baseline;
        }
    }
}
