package dev.finetune.gpucheck;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.finetune.trainer.script.Kernels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java half of the GPU bring-up kit (tools/gpu-check/run starts it):
 *
 * <pre>
 *   GpuCheck checks --goldens DIR --out FILE
 *   GpuCheck bench  --model DIR --tokens FILE --seq N --batch N --warmup N --steps N --precision bf16 --out FILE
 * </pre>
 *
 * {@code checks} runs every check on the first GPU when DJL sees one; without a GPU the CUDA-only checks are
 * reported as skipped with the reason and the rest run on the CPU. {@code bench} is the Java side of the
 * side-by-side (TrainerBench). Exit status 1 when a check failed.
 */
public final class GpuCheck {

    private GpuCheck() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !List.of("checks", "bench").contains(args[0])) {
            usage("the first argument must be 'checks' or 'bench'");
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                usage("expected --name value pairs after '" + args[0] + "', got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        Engine engine = Engine.getEngine("PyTorch");
        Device device = engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        try (NDManager manager = NDManager.newBaseManager(device); Kernels kernels = Kernels.load(manager)) {
            if (args[0].equals("bench")) {
                TrainerBench.run(new TrainerBench.Options(Path.of(required(options, "model")),
                        Path.of(required(options, "tokens")), options.getOrDefault("precision", "bf16"),
                        integer(options, "seq"), integer(options, "batch"), integer(options, "warmup"),
                        integer(options, "steps"), Path.of(required(options, "out"))), manager, kernels);
                return;
            }
            Goldens goldens = new Goldens(Path.of(required(options, "goldens")));
            Path out = Path.of(required(options, "out"));
            boolean failed = checks(engine, manager, kernels, goldens, out);
            System.exit(failed ? 1 : 0);
        }
    }

    static boolean checks(Engine engine, NDManager manager, Kernels kernels, Goldens goldens, Path out) throws Exception {
        Report report = new Report(out);
        boolean gpu = manager.getDevice().isGpu();
        String noGpu = gpu ? null : "skipped: no GPU (DJL's PyTorch engine " + engine.getVersion() + " sees "
                + engine.getGpuCount() + " GPUs; CUDA capability " + engine.hasCapability(ai.djl.engine.StandardCapabilities.CUDA) + ")";
        report.environment("device", manager.getDevice().toString());
        report.environment("libtorch", engine.getVersion());
        report.environment("java", Runtime.version().toString());
        String on = gpu ? "CUDA" : "CPU";
        report.check("djl: engine, libtorch from PYTORCH_LIBRARY_PATH, the bundle's JNI", null, EngineChecks::engine);
        report.check("djl: CUDA available to DJL and libcudart", noGpu, EngineChecks::cuda);
        report.check("djl: bf16 matmul on CUDA", noGpu, () -> EngineChecks.bf16Matmul(manager, kernels));
        report.check("djl: TorchScript kernels (SDPA fp32/bf16, casts, fused loss) on " + on, null,
                () -> EngineChecks.kernels(manager, kernels));
        try (NDManager cpu = NDManager.newBaseManager(Device.cpu())) {
            report.check("djl: data pointer of a CPU tensor", null, () -> EngineChecks.hostPointer(cpu));
        }
        report.check("djl: device pointer of a CUDA tensor (cudaMemcpy from it)", noGpu, () -> EngineChecks.devicePointer(manager));
        report.check("numerics: parity goldens in fp32 on " + on + " (CPU tolerances)", null,
                () -> NumericsChecks.parity(manager, kernels, goldens));
        report.check("numerics: bf16 LoRA training steps vs fp32 on " + on, null,
                () -> NumericsChecks.bf16Step(manager, kernels, goldens));
        report.check("nccl: libnccl and libcudart located and bound", null, NcclChecks::libraries);
        report.check("nccl: one-rank in-place all-reduce on device memory, cudaStreamQuery, async error", noGpu,
                () -> NcclChecks.allReduce(manager));
        report.check("nccl: watchdog aborts an all-reduce past the collective timeout", noGpu,
                () -> NcclChecks.watchdog(manager));
        return report.failed();
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            usage("--" + name + " is required");
        }
        return value;
    }

    private static int integer(Map<String, String> options, String name) {
        String value = required(options, name);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            usage("--" + name + " must be an integer, got '" + value + "'");
            return 0;
        }
    }

    private static void usage(String problem) {
        System.err.println("gpu-check: " + problem + "\nusage: GpuCheck checks --goldens DIR --out FILE\n"
                + "       GpuCheck bench --model DIR --tokens FILE --seq N --batch N --warmup N --steps N [--precision bf16] --out FILE");
        System.exit(2);
    }
}
