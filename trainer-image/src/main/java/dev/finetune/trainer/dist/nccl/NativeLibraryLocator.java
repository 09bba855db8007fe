package dev.finetune.trainer.dist.nccl;

import dev.finetune.trainer.dist.GpuEnvironmentException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds a CUDA-side shared library (libnccl, libcudart) the way a PyTorch CUDA image lays them out, and
 * opens it with the FFM linker. Order:
 *
 * <ol>
 *   <li>an explicit file named by an environment variable (e.g. {@code FINETUNE_NCCL_LIBRARY}); when set, it
 *       is the only candidate, so a wrong override is reported instead of silently bypassed;
 *   <li>next to PyTorch: {@code PYTORCH_LIBRARY_PATH} (DJL's variable, {@code <site-packages>/torch/lib})
 *       and the pip wheels beside it, {@code <site-packages>/nvidia/<package>/lib};
 *   <li>the directories of {@code jna.library.path} (the CUDA image puts cudart there for DJL) and
 *       {@code LD_LIBRARY_PATH};
 *   <li>the bare library name, through the system loader ({@code ldconfig} paths, or a copy already
 *       loaded by libtorch).
 * </ol>
 *
 * A library that is found nowhere yields a {@link GpuEnvironmentException} that lists every place tried
 * and how to fix it.
 */
public final class NativeLibraryLocator {

    /** What to look for. {@code wheelPackage} is the pip package directory under {@code site-packages/nvidia}. */
    public record Spec(String description, String overrideVariable, String wheelPackage, List<String> fileNames,
            String fix) {}

    /** An opened library and where it came from. */
    public record Located(SymbolLookup symbols, String origin) {

        /**
         * A downcall handle for {@code name} with the C signature {@code descriptor}.
         *
         * @throws IllegalArgumentException when the library lacks the symbol (wrong library or too old)
         */
        public java.lang.invoke.MethodHandle bind(String name, java.lang.foreign.FunctionDescriptor descriptor) {
            java.lang.foreign.MemorySegment symbol = symbols.find(name)
                    .orElseThrow(() -> new IllegalArgumentException("symbol " + name + " is missing"));
            return java.lang.foreign.Linker.nativeLinker().downcallHandle(symbol, descriptor);
        }
    }

    private final Map<String, String> env;
    private final String jnaLibraryPath;

    public NativeLibraryLocator(Map<String, String> env, String jnaLibraryPath) {
        this.env = env;
        this.jnaLibraryPath = jnaLibraryPath;
    }

    /** A locator reading this process's environment and system properties. */
    public static NativeLibraryLocator ofProcess() {
        return new NativeLibraryLocator(System.getenv(), System.getProperty("jna.library.path"));
    }

    /** The directories searched (before the system loader), in order, without duplicates. */
    public List<Path> searchDirectories(Spec spec) {
        Set<Path> dirs = new LinkedHashSet<>();
        for (String torchLib : split(env.get("PYTORCH_LIBRARY_PATH"))) {
            Path dir = Path.of(torchLib).toAbsolutePath().normalize();
            dirs.add(dir);
            // <site-packages>/torch/lib -> <site-packages>/nvidia/<package>/lib
            Path sitePackages = dir.getParent() == null ? null : dir.getParent().getParent();
            if (sitePackages != null) {
                dirs.add(sitePackages.resolve("nvidia").resolve(spec.wheelPackage()).resolve("lib"));
            }
        }
        for (String d : split(jnaLibraryPath)) {
            dirs.add(Path.of(d).toAbsolutePath().normalize());
        }
        for (String d : split(env.get("LD_LIBRARY_PATH"))) {
            dirs.add(Path.of(d).toAbsolutePath().normalize());
        }
        return List.copyOf(dirs);
    }

    /**
     * Opens the library for the whole life of the process (it is never unloaded).
     *
     * @throws GpuEnvironmentException when no candidate can be opened
     */
    public Located locate(Spec spec) {
        List<String> tried = new ArrayList<>();
        String override = env.get(spec.overrideVariable());
        if (override != null && !override.isBlank()) {
            Path file = Path.of(override.strip());
            Located located = open(file, tried);
            if (located != null) {
                return located;
            }
            throw notFound(spec, tried, spec.overrideVariable() + "=" + override.strip()
                    + " names no loadable library; point it at the " + spec.fileNames().getFirst() + " file, or unset it");
        }
        for (Path dir : searchDirectories(spec)) {
            for (String name : spec.fileNames()) {
                Located located = open(dir.resolve(name), tried);
                if (located != null) {
                    return located;
                }
            }
        }
        for (String name : spec.fileNames()) {
            try {
                return new Located(SymbolLookup.libraryLookup(name, Arena.global()), name + " (system loader)");
            } catch (IllegalArgumentException e) {
                tried.add(name + " via the system loader: not found");
            }
        }
        throw notFound(spec, tried, spec.fix());
    }

    private static Located open(Path file, List<String> tried) {
        if (!Files.isRegularFile(file)) {
            tried.add(file + ": no such file");
            return null;
        }
        if (!isElf(file)) {
            // checked here because the JVM prints a stack-guard warning when dlopen is handed a non-library
            tried.add(file + ": not a shared library (no ELF header)");
            return null;
        }
        try {
            return new Located(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
        } catch (IllegalArgumentException e) {
            tried.add(file + ": cannot be loaded (" + e.getMessage() + ")");
            return null;
        }
    }

    private static boolean isElf(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    private static GpuEnvironmentException notFound(Spec spec, List<String> tried, String fix) {
        return new GpuEnvironmentException(spec.description() + " not found; tried " + String.join("; ", tried)
                + ". Fix: " + fix);
    }

    private static List<String> split(String pathList) {
        List<String> parts = new ArrayList<>();
        if (pathList == null) {
            return parts;
        }
        for (String p : pathList.split(File.pathSeparator)) {
            if (!p.isBlank()) {
                parts.add(p.strip());
            }
        }
        return parts;
    }
}
