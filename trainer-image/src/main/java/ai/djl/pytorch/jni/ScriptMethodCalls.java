package ai.djl.pytorch.jni;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;

/**
 * Runs a method of a loaded TorchScript module with mixed tensor / scalar / list arguments,
 * keeping the caller's autograd mode.
 *
 * <p>Lives in DJL's package because {@code PyTorchLibrary} is package-private. DJL's public
 * {@code IValueUtils.runMethod} always runs without gradients, which would cut the graph through
 * every scripted kernel (attention, RMSNorm, dtype casts) during training.
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

    public static IValue longs(long... values) {
        return IValue.listFrom(values);
    }

    /**
     * Runs {@code method} on {@code module}; with {@code recordGradients} the call follows the
     * thread's grad mode (so autograd records it when grad mode is on), otherwise DJL runs it under
     * its no-grad/inference guard. Closes the argument IValues; the caller owns the returned IValue.
     *
     * <p>Callers should pass {@code true} and steer autograd with the thread's grad mode: a method
     * first run with gradients and later under DJL's inference guard can replay a differentiable
     * plan that tries to save inference tensors and fails.
     */
    public static IValue run(PtSymbolBlock module, String method, boolean recordGradients, IValue... args) {
        long[] handles = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            handles[i] = args[i].getHandle();
        }
        try {
            long result = PyTorchLibrary.LIB.moduleRunMethod(module.getHandle(), method, handles, recordGradients, false);
            return new IValue(result);
        } finally {
            for (IValue arg : args) {
                arg.close();
            }
        }
    }

    /** Returns the tensor result of a call, attached to {@code manager}. */
    public static PtNDArray runTensor(PtSymbolBlock module, String method, PtNDManager manager,
            boolean recordGradients, IValue... args) {
        try (IValue out = run(module, method, recordGradients, args)) {
            return out.toTensor(manager);
        }
    }

    /** Returns the tuple-of-tensors result of a call, attached to {@code manager}. */
    public static PtNDArray[] runTensors(PtSymbolBlock module, String method, PtNDManager manager,
            boolean recordGradients, IValue... args) {
        try (IValue out = run(module, method, recordGradients, args)) {
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
