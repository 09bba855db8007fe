package dev.finetune.trainer.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.ScriptMethodCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A TorchScript module compiled by libtorch from an archive, whose methods take tensors, numbers, flags and
 * lists of tensors. Calls follow the calling thread's grad mode ({@link Autograd}), so a training graph
 * passes through them.
 */
public final class ScriptModule implements AutoCloseable {

    private final PtNDManager manager;
    private final PtSymbolBlock module;

    private ScriptModule(PtNDManager manager, PtSymbolBlock module) {
        this.manager = manager;
        this.module = module;
    }

    /**
     * Loads a TorchScript archive (zip) for the device of {@code manager}. The profiling executor would
     * specialise (and differentiate) small graphs per input pattern; plain interpretation is what we want,
     * so it is switched off (a per-thread libtorch setting).
     */
    public static ScriptModule load(NDManager manager, byte[] archive) {
        PtNDManager pt = (PtNDManager) manager;
        JniUtils.setGraphExecutorOptimize(false);
        try {
            return new ScriptModule(pt, JniUtils.loadModule(pt, new ByteArrayInputStream(archive), true, false));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load a TorchScript archive", e);
        }
    }

    /**
     * Runs {@code method} and returns its tensor result. Arguments: {@link NDArray} (a tensor), {@link Double}
     * (float), {@link Integer} or {@link Long} (int), {@link Boolean} (bool), a {@link List} of NDArrays
     * (List[Tensor]), {@code double[]} (List[float]), {@code long[]} (List[int]).
     */
    public NDArray call(String method, Object... args) {
        return ScriptMethodCalls.runTensor(module, method, manager, values(args));
    }

    /** Runs {@code method} and returns the tensors of its tuple result. */
    public NDArray[] callTuple(String method, Object... args) {
        return ScriptMethodCalls.runTensors(module, method, manager, values(args));
    }

    /** Runs {@code method} and returns its int result. */
    public long callLong(String method, Object... args) {
        try (IValue out = ScriptMethodCalls.run(module, method, values(args))) {
            return out.toLong();
        }
    }

    private static IValue[] values(Object[] args) {
        IValue[] values = new IValue[args.length];
        for (int i = 0; i < args.length; i++) {
            values[i] = value(args[i]);
        }
        return values;
    }

    private static IValue value(Object arg) {
        return switch (arg) {
            case NDArray array -> ScriptMethodCalls.tensor(Autograd.pt(array));
            case Double d -> ScriptMethodCalls.real(d);
            case Integer i -> ScriptMethodCalls.integer(i);
            case Long l -> ScriptMethodCalls.integer(l);
            case Boolean b -> ScriptMethodCalls.bool(b);
            case double[] reals -> ScriptMethodCalls.reals(reals);
            case long[] integers -> ScriptMethodCalls.integers(integers);
            case List<?> list -> ScriptMethodCalls.tensors(list.stream().map(a -> Autograd.pt((NDArray) a))
                    .toArray(PtNDArray[]::new));
            default -> throw new IllegalArgumentException("no TorchScript value for " + arg.getClass().getName());
        };
    }

    @Override
    public void close() {
        module.close();
    }
}
