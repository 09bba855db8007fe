package dev.finetune.gpucheck;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.dist.FlatFloat32;
import dev.finetune.trainer.dist.nccl.CudaRuntime;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import dev.finetune.trainer.script.Kernels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** DJL on the device: which engine and libtorch loaded, the project's TorchScript kernels, raw tensor pointers. */
final class EngineChecks {

    private EngineChecks() {}

    /** The first mapped file whose name contains {@code fragment} (from /proc/self/maps), or null. */
    static String mapped(String fragment) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.substring(slash).contains(fragment)) {
                return line.substring(slash);
            }
        }
        return null;
    }

    static Map<String, Object> engine() throws IOException {
        Engine engine = Engine.getEngine("PyTorch");
        String expectedVersion = System.getenv("PYTORCH_VERSION");
        String libraryPath = System.getenv("PYTORCH_LIBRARY_PATH");
        String libtorch = mapped("libtorch_cpu.so");
        String jni = mapped("libdjl_torch.so");
        Report.require(expectedVersion != null && libraryPath != null,
                "PYTORCH_VERSION and PYTORCH_LIBRARY_PATH must be set (tools/gpu-check/run sets them from the torch it finds)");
        Report.require(engine.getVersion().equals(expectedVersion),
                "DJL reports libtorch " + engine.getVersion() + ", PYTORCH_VERSION is " + expectedVersion);
        Report.require(libtorch != null && libtorch.startsWith(libraryPath + "/"),
                "libtorch_cpu.so mapped from " + libtorch + ", not from PYTORCH_LIBRARY_PATH " + libraryPath);
        String expectedJni = System.getenv("FINETUNE_GPU_CHECK_JNI");
        Report.require(jni != null && (expectedJni == null || jni.equals(expectedJni)),
                "DJL's JNI mapped from " + jni + ", expected the bundle's " + expectedJni);
        return Report.figures("engine", engine.getEngineName(), "djl", Engine.getDjlVersion(), "libtorch",
                engine.getVersion(), "cuda", engine.hasCapability(StandardCapabilities.CUDA), "cudnn",
                engine.hasCapability(StandardCapabilities.CUDNN), "gpus", engine.getGpuCount(), "libtorchFile", libtorch,
                "jniFile", jni);
    }

    static Map<String, Object> cuda() {
        Engine engine = Engine.getEngine("PyTorch");
        Report.require(engine.hasCapability(StandardCapabilities.CUDA), "the loaded libtorch has no CUDA capability");
        Report.require(engine.getGpuCount() >= 1, "DJL sees no GPU");
        CudaRuntime cuda = CudaRuntime.load(NativeLibraryLocator.ofProcess());
        return Report.figures("gpus", engine.getGpuCount(), "cudartDevices", cuda.deviceCount(), "cudart", cuda.origin(),
                "device", Device.gpu().toString());
    }

    /** bf16 matmul on the GPU against the fp32 product of the same bf16-rounded inputs, computed in Java. */
    static Map<String, Object> bf16Matmul(NDManager gpu, Kernels kernels) {
        int n = 96;
        float[] a = bf16Rounded(random(n * n, 1));
        float[] b = bf16Rounded(random(n * n, 2));
        float[] product;
        try (NDManager m = gpu.newSubManager()) {
            NDArray x = kernels.cast(m.create(a, new Shape(n, n)), DataType.BFLOAT16);
            NDArray y = kernels.cast(m.create(b, new Shape(n, n)), DataType.BFLOAT16);
            NDArray z = x.matMul(y);
            Report.require(kernels.dtypeOf(z) == DataType.BFLOAT16, "the product is " + kernels.dtypeOf(z) + ", not bf16");
            product = kernels.cast(z, DataType.FLOAT32).toFloatArray();
        }
        double maxRel = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double expected = 0;
                double scale = 0;
                for (int k = 0; k < n; k++) {
                    expected += (double) a[i * n + k] * b[k * n + j];
                    scale += Math.abs((double) a[i * n + k] * b[k * n + j]);
                }
                maxRel = Math.max(maxRel, Math.abs(product[i * n + j] - expected) / scale);
            }
        }
        // a bf16 result carries 8 significant bits: 2^-8 of the magnitude scale bounds the rounding error
        Report.require(maxRel <= 1.0 / 256, "bf16 matmul error " + maxRel + " of the magnitude scale exceeds 2^-8");
        return Report.figures("n", n, "maxErrorOfMagnitudeScale", maxRel);
    }

    /**
     * The project's TorchScript kernels on {@code manager}'s device: causal GQA attention (fp32 and bf16), the
     * fp32-to-bf16 cast, and the fused loss with its gradient, each against a reference computed in Java.
     */
    static Map<String, Object> kernels(NDManager manager, Kernels kernels) {
        int heads = 4;
        int kvHeads = 2;
        int t = 24;
        int d = 16;
        float[] q = random(heads * t * d, 3);
        float[] k = random(kvHeads * t * d, 4);
        float[] v = random(kvHeads * t * d, 5);
        float[] expected = attentionReference(q, k, v, heads, kvHeads, t, d);
        float[] fp32;
        float[] bf16;
        try (NDManager m = manager.newSubManager()) {
            NDArray qa = m.create(q, new Shape(1, heads, t, d));
            NDArray ka = m.create(k, new Shape(1, kvHeads, t, d));
            NDArray va = m.create(v, new Shape(1, kvHeads, t, d));
            fp32 = kernels.attention(qa, ka, va, true).toFloatArray();
            NDArray out = kernels.attention(kernels.cast(qa, DataType.BFLOAT16), kernels.cast(ka, DataType.BFLOAT16),
                    kernels.cast(va, DataType.BFLOAT16), true);
            bf16 = kernels.cast(out, DataType.FLOAT32).toFloatArray();
        }
        double attentionFp32 = maxAbs(fp32, expected);
        double attentionBf16 = maxAbs(bf16, expected);
        Report.require(attentionFp32 <= 1e-5, "fp32 SDPA differs from the reference by " + attentionFp32 + " (> 1e-5)");
        Report.require(attentionBf16 <= 3e-2, "bf16 SDPA differs from the reference by " + attentionBf16 + " (> 3e-2)");

        float[] x = random(4096, 6);
        float[] roundTrip;
        try (NDManager m = manager.newSubManager()) {
            NDArray half = kernels.cast(m.create(x), DataType.BFLOAT16);
            roundTrip = kernels.cast(half, DataType.FLOAT32).toFloatArray();
        }
        float[] rounded = bf16Rounded(x);
        for (int i = 0; i < x.length; i++) {
            Report.require(roundTrip[i] == rounded[i], "fp32->bf16->fp32 of " + x[i] + " gave " + roundTrip[i]
                    + ", round-to-nearest-even gives " + rounded[i]);
        }

        int rows = 12;
        int hidden = 32;
        int vocab = 50;
        float[] h = random(rows * hidden, 7);
        float[] w = random(vocab * hidden, 8);
        long[] targets = new long[rows];
        for (int i = 0; i < rows; i++) {
            targets[i] = (i * 7L + 3) % vocab;
        }
        double scale = 0.25;
        double[] nllAndGrad = new double[1 + rows * hidden];
        lossReference(h, w, targets, rows, hidden, vocab, scale, nllAndGrad);
        double nll;
        float[] grad;
        try (NDManager m = manager.newSubManager()) {
            NDArray[] out = kernels.nllSumAndGrad(m.create(h, new Shape(rows, hidden)), m.create(w, new Shape(vocab, hidden)),
                    m.create(targets), scale);
            nll = out[0].toType(DataType.FLOAT64, false).getDouble();
            grad = out[1].toFloatArray();
        }
        double nllError = Math.abs(nll - nllAndGrad[0]) / Math.abs(nllAndGrad[0]);
        double gradError = 0;
        for (int i = 0; i < grad.length; i++) {
            gradError = Math.max(gradError, Math.abs(grad[i] - nllAndGrad[1 + i]));
        }
        Report.require(nllError <= 1e-5, "fused loss: NLL sum " + nll + ", reference " + nllAndGrad[0]);
        Report.require(gradError <= 1e-4, "fused loss: dHidden differs from the reference by " + gradError);
        return Report.figures("device", manager.getDevice().toString(), "attentionFp32MaxAbs", attentionFp32,
                "attentionBf16MaxAbs", attentionBf16, "castRoundTrip", "exact", "lossNllRelError", nllError,
                "lossGradMaxAbs", gradError);
    }

    /** The address of a CPU tensor's data read back through a memory segment gives the tensor's values. */
    static Map<String, Object> hostPointer(NDManager cpu) {
        float[] values = random(1000, 9);
        try (NDManager m = cpu.newSubManager()) {
            NDArray flat = m.create(values);
            long address = FlatFloat32.address(flat);
            MemorySegment memory = MemorySegment.ofAddress(address).reinterpret(4L * values.length);
            for (int i = 0; i < values.length; i++) {
                float read = memory.getAtIndex(JAVA_FLOAT, i);
                Report.require(read == values[i], "element " + i + " at the data address is " + read + ", tensor has " + values[i]);
            }
            return Report.figures("elements", values.length, "address", Long.toHexString(address));
        }
    }

    /** The address of a CUDA tensor's data, copied to the host with cudaMemcpy, gives the tensor's values. */
    static Map<String, Object> devicePointer(NDManager gpu) {
        float[] values = random(1 << 16, 10);
        MethodHandle memcpy = NativeLibraryLocator.ofProcess().locate(CudaRuntime.SPEC).bind("cudaMemcpy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        try (NDManager m = gpu.newSubManager(); Arena arena = Arena.ofConfined()) {
            NDArray flat = m.create(values);
            Report.require(flat.getDevice().isGpu(), "the tensor is on " + flat.getDevice());
            long address = FlatFloat32.address(flat);
            MemorySegment host = arena.allocate(4L * values.length);
            int error = (int) memcpy.invokeExact(host, MemorySegment.ofAddress(address), 4L * values.length, 2);
            Report.require(error == CudaRuntime.SUCCESS, "cudaMemcpy(DeviceToHost) from the tensor's address failed: cudaError " + error);
            for (int i = 0; i < values.length; i++) {
                float read = host.getAtIndex(JAVA_FLOAT, i);
                Report.require(read == values[i], "element " + i + " at the device address is " + read + ", tensor has " + values[i]);
            }
            return Report.figures("elements", values.length, "address", Long.toHexString(address));
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    /** fp32 to the nearest bf16 (ties to even), widened back to fp32. */
    static float bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat((bits + rounding) & 0xFFFF0000);
    }

    static float[] bf16Rounded(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = bf16(x[i]);
        }
        return out;
    }

    static double maxAbs(float[] a, float[] b) {
        Report.require(a.length == b.length, a.length + " values, reference " + b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            Report.require(Float.isFinite(a[i]), "value " + i + " is " + a[i]);
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Causal softmax attention, query head h reading key/value head h / (heads / kvHeads), as SDPA's enable_gqa. */
    static float[] attentionReference(float[] q, float[] k, float[] v, int heads, int kvHeads, int t, int d) {
        float[] out = new float[heads * t * d];
        double scale = 1 / Math.sqrt(d);
        for (int h = 0; h < heads; h++) {
            int kv = h / (heads / kvHeads);
            for (int i = 0; i < t; i++) {
                double[] scores = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += (double) q[(h * t + i) * d + c] * k[(kv * t + j) * d + c];
                    }
                    scores[j] = s * scale;
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int c = 0; c < d; c++) {
                    double acc = 0;
                    for (int j = 0; j <= i; j++) {
                        acc += scores[j] / sum * v[(kv * t + j) * d + c];
                    }
                    out[(h * t + i) * d + c] = (float) acc;
                }
            }
        }
        return out;
    }

    /** out[0] = sum of NLL; out[1..] = scale * (softmax(hW^T) - onehot) W, row-major [rows, hidden]. */
    static void lossReference(float[] h, float[] w, long[] targets, int rows, int hidden, int vocab, double scale, double[] out) {
        for (int r = 0; r < rows; r++) {
            double[] logits = new double[vocab];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < vocab; c++) {
                double s = 0;
                for (int i = 0; i < hidden; i++) {
                    s += (double) h[r * hidden + i] * w[c * hidden + i];
                }
                logits[c] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int c = 0; c < vocab; c++) {
                sum += Math.exp(logits[c] - max);
            }
            double lse = max + Math.log(sum);
            out[0] += lse - logits[(int) targets[r]];
            for (int c = 0; c < vocab; c++) {
                double p = Math.exp(logits[c] - lse) - (c == targets[r] ? 1 : 0);
                for (int i = 0; i < hidden; i++) {
                    out[1 + r * hidden + i] += scale * p * w[c * hidden + i];
                }
            }
        }
    }
}
