package ai.djl.pytorch.jni;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;

/**
 * Runs a method of a loaded TorchScript module with mixed tensor / scalar / list arguments,
 * following the calling thread's grad mode.
 *
 * <p>Lives in DJL's package because {@code PyTorchLibrary} is package-private. DJL's public
 * {@code IValueUtils.runMethod} always runs without gradients, which would cut the graph through
 * every scripted kernel (attention, RMSNorm, dtype casts) during training. Steering autograd with the
 * thread's grad mode (never DJL's inference guard) also keeps a method first run with gradients from
 * later replaying a differentiable plan that tries to save inference tensors and fails.
 */
public final class ScriptMethodCalls {

    private ScriptMethodCalls() {}

    /** Argument wrappers: each becomes one TorchScript IValue. */
    public static IValue tensor(PtNDArray array) {
        return IValue.from(array);
    }

    public static IValue real(double value) {
        return IValue.from(value);
    }

    public static IValue integer(long value) {
        return IValue.from(value);
    }

    public static IValue bool(boolean value) {
        return IValue.from(value);
    }

    public static IValue tensors(PtNDArray... arrays) {
        return IValue.listFrom(arrays);
    }

    public static IValue reals(double... values) {
        return IValue.listFrom(values);
    }

    public static IValue integers(long... values) {
        return IValue.listFrom(values);
    }

    /**
     * Runs {@code method} on {@code module} under the thread's grad mode (autograd records the call when
     * grad mode is on). Closes the argument IValues; the caller owns the returned IValue.
     */
    public static IValue run(PtSymbolBlock module, String method, IValue... args) {
        long[] handles = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            handles[i] = args[i].getHandle();
        }
        try {
            long result = PyTorchLibrary.LIB.moduleRunMethod(module.getHandle(), method, handles, true, false);
            return new IValue(result);
        } finally {
            for (IValue arg : args) {
                arg.close();
            }
        }
    }

    /** Returns the tensor result of a call, attached to {@code manager}. */
    public static PtNDArray runTensor(PtSymbolBlock module, String method, PtNDManager manager, IValue... args) {
        try (IValue out = run(module, method, args)) {
            return out.toTensor(manager);
        }
    }

    /** Returns the tuple-of-tensors result of a call, attached to {@code manager}. */
    public static PtNDArray[] runTensors(PtSymbolBlock module, String method, PtNDManager manager, IValue... args) {
        try (IValue out = run(module, method, args)) {
            IValue[] parts = out.toIValueTuple();
            PtNDArray[] arrays = new PtNDArray[parts.length];
            for (int i = 0; i < parts.length; i++) {
                arrays[i] = parts[i].toTensor(manager);
                parts[i].close();
            }
            return arrays;
        }
    }
}
