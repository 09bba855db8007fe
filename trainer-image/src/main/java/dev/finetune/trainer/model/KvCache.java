package dev.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/** Keys and values of every layer for the tokens seen so far (generation). */
public final class KvCache implements AutoCloseable {

    private final NDArray[] keys;
    private final NDArray[] values;
    private final ai.djl.ndarray.NDManager owner;
    private int length;

    /** @param owner keeps the cached tensors alive across steps (layer scopes close their own tensors) */
    public KvCache(int layers, ai.djl.ndarray.NDManager owner) {
        keys = new NDArray[layers];
        values = new NDArray[layers];
        this.owner = owner;
    }

    /** Appends this step's k/v [B, Hkv, T, D] for {@code layer} and returns the full history. */
    NDArray[] append(int layer, NDArray k, NDArray v, dev.finetune.trainer.script.Kernels kernels) {
        if (keys[layer] == null) {
            keys[layer] = k;
            values[layer] = v;
            k.attach(owner);
            v.attach(owner);
        } else {
            NDArray nk = kernels.cat(keys[layer], k, 2);
            NDArray nv = kernels.cat(values[layer], v, 2);
            keys[layer].close();
            values[layer].close();
            keys[layer] = nk;
            values[layer] = nv;
            nk.attach(owner);
            nv.attach(owner);
        }
        if (layer == keys.length - 1) {
            length = Math.toIntExact(keys[layer].getShape().get(2));
        }
        return new NDArray[] {keys[layer], values[layer]};
    }

    /** Number of cached positions. */
    public int length() {
        return length;
    }

    public boolean isEmpty() {
        return keys[0] == null;
    }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                keys[i].close();
                values[i].close();
            }
        }
    }
}
