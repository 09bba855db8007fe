package dev.finetune.trainer.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DJL 0.35.1 aborts the JVM (std::terminate, no exception) when some NDArray operations meet a bf16
 * tensor (docs/djl.md, "bf16: the sharp edge"). These tests read the trainer's compiled bytecode and fail when a call path
 * that can kill the process appears: the trainer must cast, create and print bf16 tensors only
 * through the TorchScript kernels.
 */
class Bf16GuardTest {

    /** NDArray / NDManager methods that abort on bf16 input. */
    static final Set<String> FORBIDDEN_NDARRAY = Set.of("toType", "softmax", "logSoftmax", "zerosLike", "onesLike",
            "toDevice", "toString", "toDebugString");

    /** Classes allowed to name DataType.BFLOAT16 (dtype mapping and the kernels that handle it). */
    static final Set<String> MAY_NAME_BF16 = Set.of(
            "dev/finetune/trainer/script/Kernels",
            "dev/finetune/trainer/model/ComputeDtype");

    static List<Path> trainerClasses() throws IOException, URISyntaxException {
        Path root = Path.of(dev.finetune.trainer.script.Kernels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(".class"))
                    .filter(p -> root.relativize(p).toString().startsWith("dev/finetune/trainer/"))
                    .filter(p -> !root.relativize(p).toString().startsWith("dev/finetune/trainer/data/"))
                    .toList();
        }
    }

    static boolean isDjlArray(String owner) {
        return owner.equals("ai/djl/ndarray/NDArray") || owner.equals("ai/djl/pytorch/engine/PtNDArray")
                || owner.equals("ai/djl/ndarray/BaseNDManager") || owner.equals("ai/djl/ndarray/NDArrayAdapter");
    }

    @Test
    void noCallToAnNdArrayOperationThatAbortsOnBf16() throws Exception {
        List<String> violations = new ArrayList<>();
        List<Path> classes = trainerClasses();
        assertThat(classes).hasSizeGreaterThan(30);
        for (Path file : classes) {
            ClassModel model = ClassFile.of().parse(file);
            for (MethodModel method : model.methods()) {
                method.code().ifPresent(code -> code.forEach(element -> {
                    if (element instanceof InvokeInstruction invoke) {
                        String owner = invoke.owner().asInternalName();
                        String name = invoke.name().stringValue();
                        if (isDjlArray(owner) && FORBIDDEN_NDARRAY.contains(name)) {
                            violations.add(where(model, method) + " calls " + owner + "." + name);
                        }
                    }
                    if (element instanceof InvokeDynamicInstruction indy
                            && indy.bootstrapMethod().methodName().equals("makeConcatWithConstants")
                            && indy.typeSymbol().descriptorString().contains("Lai/djl/ndarray/NDArray;")) {
                        violations.add(where(model, method) + " concatenates an NDArray into a string (calls toString)");
                    }
                }));
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void onlyTheDtypeMappingNamesBf16() throws Exception {
        List<String> violations = new ArrayList<>();
        for (Path file : trainerClasses()) {
            ClassModel model = ClassFile.of().parse(file);
            String cls = model.thisClass().asInternalName();
            for (MethodModel method : model.methods()) {
                method.code().ifPresent(code -> code.forEach(element -> {
                    if (element instanceof FieldInstruction field
                            && field.owner().asInternalName().equals("ai/djl/ndarray/types/DataType")
                            && field.name().stringValue().equals("BFLOAT16")
                            && MAY_NAME_BF16.stream().noneMatch(a -> cls.equals(a) || cls.startsWith(a + "$"))) {
                        violations.add(where(model, method) + " names DataType.BFLOAT16");
                    }
                }));
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void theScanSeesCallsWhenTheyExist() throws Exception {
        // the detector itself: this test class's own bytecode contains a forbidden call
        Path self = Path.of(Bf16GuardTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/finetune/trainer/guard/Bf16GuardTest$Offender.class");
        ClassModel model = ClassFile.of().parse(self);
        boolean found = model.methods().stream().flatMap(m -> m.code().stream()).flatMap(c -> c.elementStream())
                .anyMatch(e -> e instanceof InvokeInstruction i && isDjlArray(i.owner().asInternalName())
                        && FORBIDDEN_NDARRAY.contains(i.name().stringValue()));
        assertThat(found).isTrue();
    }

    /** Never run: only compiled, so the scanner has something to find. */
    static final class Offender {
        static Object cast(ai.djl.ndarray.NDArray x) {
            return x.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        }
    }

    private static String where(ClassModel model, MethodModel method) {
        return model.thisClass().asInternalName().replace('/', '.') + "." + method.methodName().stringValue();
    }
}
