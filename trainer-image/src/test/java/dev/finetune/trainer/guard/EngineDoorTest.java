package dev.finetune.trainer.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One door into DJL's PyTorch engine: only {@code dev.finetune.trainer.engine} (and the helpers placed in DJL's
 * own package {@code ai.djl.pytorch.jni}, which reach its package-private library) may name a class of
 * {@code ai.djl.pytorch}. The rest of the trainer works with DJL's engine-neutral {@code NDArray} and the
 * engine package's {@code Autograd}, {@code ScriptModule} and {@code NativeMemory}.
 */
class EngineDoorTest {

    static final String ENGINE = "dev/finetune/trainer/engine/";

    static List<Path> classes(Path root) throws Exception {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(".class"))
                    .filter(p -> root.relativize(p).toString().startsWith("dev/finetune/trainer/"))
                    .toList();
        }
    }

    /** The classes of {@code ai.djl.pytorch} a compiled class refers to (types, owners, descriptors). */
    static TreeSet<String> pytorchReferences(Path file) throws Exception {
        ClassModel model = ClassFile.of().parse(file);
        TreeSet<String> found = new TreeSet<>();
        for (PoolEntry entry : model.constantPool()) {
            String text = switch (entry) {
                case ClassEntry c -> c.asInternalName();
                case Utf8Entry u -> u.stringValue();
                default -> "";
            };
            int at = text.indexOf("ai/djl/pytorch/");
            if (at >= 0) {
                int end = at;
                while (end < text.length() && (Character.isJavaIdentifierPart(text.charAt(end)) || text.charAt(end) == '/')) {
                    end++;
                }
                found.add(text.substring(at, end));
            }
        }
        return found;
    }

    @Test
    void onlyTheEnginePackageNamesDjlsPyTorchEngine() throws Exception {
        Path root = Path.of(dev.finetune.trainer.engine.Autograd.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Path> classes = classes(root);
        assertThat(classes).hasSizeGreaterThan(100);
        TreeSet<String> violations = new TreeSet<>();
        for (Path file : classes) {
            String name = root.relativize(file).toString();
            if (!name.startsWith(ENGINE)) {
                pytorchReferences(file).forEach(ref -> violations.add(name + " -> " + ref));
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void theScanSeesAReferenceWhenThereIsOne() throws Exception {
        Path self = Path.of(EngineDoorTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/finetune/trainer/guard/EngineDoorTest$Offender.class");
        assertThat(pytorchReferences(self)).contains("ai/djl/pytorch/jni/JniUtils");
    }

    /** Never run: only compiled, so the scanner has something to find. */
    static final class Offender {
        static void grad() {
            ai.djl.pytorch.jni.JniUtils.setGradMode(true);
        }
    }
}
