import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.finetune.trainer.dist.NcclCollective;
import dev.finetune.trainer.dist.nccl.NativeLibraryLocator;
import java.time.Duration;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What DJL's PyTorch engine loaded into this JVM, as check.sh reads it: the engine's own report (version,
 * CUDA capability, GPU count) and, because that report cannot tell a CUDA libtorch from PYTORCH_LIBRARY_PATH
 * apart from one DJL downloaded or unpacked from a jar, the files actually mapped into the process
 * (/proc/self/maps). One "key: value" line each; run with the trainer's class path:
 *
 * <pre>java -cp 'trainer-image/target/finetune-trainer-0.1.0-SNAPSHOT.jar:trainer-image/target/lib/*' EngineProbe.java [--gang PORT]</pre>
 *
 * With {@code --gang PORT} it then sets up rank 0 of a two-process NCCL gang (LOCAL_RANK 0) the way the
 * trainer does, in the same JVM as the loaded libtorch, and prints how that ended: a trainer worker on a
 * machine without a GPU stops before it loads libtorch, so only this shows the three libraries together.
 */
public final class EngineProbe {

    /** The native libraries whose origin matters: libtorch's parts, DJL's JNI, and CUDA's runtime pieces. */
    private static final Pattern INTERESTING =
            Pattern.compile("lib(torch|c10|djl_torch|cudart|nccl|cudnn|cublas|gomp)[^/]*\\.so[^/]*$");

    public static void main(String[] args) throws IOException {
        Engine engine = Engine.getEngine("PyTorch");
        System.out.println("engine: " + engine.getEngineName() + " " + engine.getVersion());
        System.out.println("cuda capability: " + engine.hasCapability(StandardCapabilities.CUDA));
        System.out.println("cudnn capability: " + engine.hasCapability(StandardCapabilities.CUDNN));
        System.out.println("gpu count: " + engine.getGpuCount());
        System.out.println("default device: " + engine.defaultDevice());
        try (NDManager manager = engine.newBaseManager(Device.cpu())) {
            // a real kernel of the loaded libtorch, not only its symbols: [[1,2],[3,4]] x [[5],[6]] = [[17],[39]]
            NDArray product = manager.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2))
                    .matMul(manager.create(new float[] {5, 6}, new ai.djl.ndarray.types.Shape(2, 1)));
            float[] values = product.toFloatArray();
            System.out.println(String.format(Locale.ROOT, "cpu matmul: %.1f %.1f", values[0], values[1]));
        }
        if (args.length == 2 && args[0].equals("--gang")) {
            NcclCollective.Settings rankZero = new NcclCollective.Settings(0, 2, "127.0.0.1", Integer.parseInt(args[1]), 0,
                    Duration.ofSeconds(10), Duration.ofSeconds(10));
            try (NcclCollective gang = NcclCollective.connect(rankZero, NativeLibraryLocator.ofProcess())) {
                System.out.println("gang: connected on " + gang.device());
            } catch (RuntimeException e) {
                System.out.println("gang: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        TreeSet<String> mapped = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && INTERESTING.matcher(line.substring(slash)).find()) {
                mapped.add(line.substring(slash));
            }
        }
        mapped.forEach(file -> System.out.println("mapped: " + file));
    }
}
