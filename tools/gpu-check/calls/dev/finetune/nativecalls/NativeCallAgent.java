package dev.finetune.nativecalls;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * A Java agent ({@code -javaagent:native-calls.jar}) that rewrites, as classes load, every call to a method of
 * {@code ai.djl.pytorch.jni.PyTorchLibrary} in DJL's and the project's classes so that it first calls
 * {@link NativeCalls#count(String)} with the method's name. Nothing else changes: the call itself and its
 * arguments stay as they were.
 */
public final class NativeCallAgent {

    private static final String LIBRARY = "ai/djl/pytorch/jni/PyTorchLibrary";
    private static final ClassDesc COUNTER = ClassDesc.of(NativeCalls.class.getName());
    private static final MethodTypeDesc COUNT = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String);

    private NativeCallAgent() {}

    public static void premain(String options, Instrumentation instrumentation) {
        instrumentation.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                    byte[] bytes) {
                if (name == null || name.equals(LIBRARY) || name.startsWith("dev/finetune/nativecalls/")
                        || !(name.startsWith("ai/djl/") || name.startsWith("dev/finetune/"))) {
                    return null;
                }
                try {
                    return countCalls(bytes);
                } catch (RuntimeException e) {
                    System.err.println("native-calls: cannot instrument " + name + ": " + e);
                    return null;
                }
            }
        });
    }

    /** The class with a count before each PyTorchLibrary call, or null when it makes none. */
    static byte[] countCalls(byte[] bytes) {
        ClassFile files = ClassFile.of();
        ClassModel model = files.parse(bytes);
        boolean[] calls = {false};
        byte[] rewritten = files.transformClass(model, ClassTransform.transformingMethodBodies((code, element) -> {
            if (element instanceof InvokeInstruction call && call.owner().asInternalName().equals(LIBRARY)) {
                code.ldc(call.name().stringValue());
                code.invokestatic(COUNTER, "count", COUNT);
                calls[0] = true;
            }
            code.with(element);
        }));
        return calls[0] ? rewritten : null;
    }
}
