package dev.finetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.v1alpha1.LoraBias;
import dev.finetune.api.v1alpha1.LoraInit;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.model.Linear;
import dev.finetune.trainer.script.Kernels;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * LoRA adapters attached to a frozen {@link DecoderModel}, like PEFT's {@code get_peft_model}: the
 * chosen linear layers get an adapter with A initialised kaiming-uniform(a=sqrt(5)) (bound
 * {@code 1/sqrt(in)}) or N(0, 1/r), and B zeros, so the adapted model starts equal to the base model.
 * Only the adapters' tensors (and biases, when trained) require gradients; they and their optimizer
 * state stay fp32.
 */
public final class LoraModel implements AutoCloseable {

    private final DecoderModel base;
    private final LoraSettings settings;
    private final NDManager manager;
    private final List<LoraAdapter> adapters;
    private final List<Linear> adapted;
    private final Map<String, NDArray> biases;
    private final List<Linear> biasLayers;

    private LoraModel(DecoderModel base, LoraSettings settings, NDManager manager, List<LoraAdapter> adapters,
            List<Linear> adapted, Map<String, NDArray> biases, List<Linear> biasLayers) {
        this.base = base;
        this.settings = settings;
        this.manager = manager;
        this.adapters = adapters;
        this.adapted = adapted;
        this.biases = biases;
        this.biasLayers = biasLayers;
    }

    /** Attaches fresh adapters; initial values are a pure function of {@code seed} and the module path. */
    public static LoraModel attach(DecoderModel base, LoraSettings settings, long seed) {
        NDManager manager = base.manager().newSubManager();
        Set<String> targets = Set.copyOf(settings.moduleNames());
        List<LoraAdapter> adapters = new ArrayList<>();
        List<Linear> adapted = new ArrayList<>();
        int r = settings.rank();
        for (Linear linear : base.linears()) {
            if (!targets.contains(linear.name())) {
                continue;
            }
            if (linear.adapter() != null) {
                throw new IllegalStateException(linear.path() + " already has an adapter");
            }
            int in = Math.toIntExact(linear.inFeatures());
            int out = Math.toIntExact(linear.outFeatures());
            SplittableRandom random = new SplittableRandom(ForwardContext.mix(seed, linear.path().hashCode()));
            float[] aInit = new float[r * in];
            if (settings.init() == LoraInit.GAUSSIAN) {
                for (int i = 0; i < aInit.length; i++) {
                    aInit[i] = (float) (gaussian(random) / r);
                }
            } else {
                double bound = 1.0 / Math.sqrt(in); // kaiming_uniform_(a=sqrt(5)) on fan_in = in
                for (int i = 0; i < aInit.length; i++) {
                    aInit[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
            }
            NDArray a = manager.create(aInit, new Shape(r, in));
            NDArray b = manager.zeros(new Shape(out, r), DataType.FLOAT32);
            LoraVariant variant = settings.useDora() ? DoraVariant.init(linear, base.kernels(), manager) : LoraVariant.PLAIN;
            LoraAdapter adapter = new LoraAdapter(linear.path(), a, b, settings.scaling(), settings.dropout(), variant);
            adapters.add(adapter);
            adapted.add(linear);
        }
        if (adapters.isEmpty()) {
            manager.close();
            throw new IllegalArgumentException("lora.targetModules " + settings.moduleNames() + " match no layer of the model");
        }
        // PEFT's bias modes: the chosen biases train (fp32 copies); keys follow PEFT's state dict, where an
        // adapted layer's own bias sits under base_layer
        Map<String, NDArray> biases = new LinkedHashMap<>();
        List<Linear> biasLayers = new ArrayList<>();
        if (settings.bias() != LoraBias.NONE) {
            for (Linear linear : base.linears()) {
                boolean isAdapted = adapted.contains(linear);
                if (linear.bias() == null || (settings.bias() == LoraBias.LORA_ONLY && !isAdapted)) {
                    continue;
                }
                NDArray b32;
                try (NDArray cast = base.kernels().cast(linear.bias(), DataType.FLOAT32)) {
                    b32 = cast.duplicate();
                }
                b32.attach(manager);
                b32.setRequiresGradient(true);
                linear.setTrainableBias(b32);
                biases.put("base_model.model." + linear.path() + (isAdapted ? ".base_layer.bias" : ".bias"), b32);
                biasLayers.add(linear);
            }
        }
        for (int i = 0; i < adapters.size(); i++) {
            adapters.get(i).parameters().values().forEach(p -> p.setRequiresGradient(true));
            adapted.get(i).setAdapter(adapters.get(i));
        }
        return new LoraModel(base, settings, manager, Collections.unmodifiableList(adapters), Collections.unmodifiableList(adapted),
                Collections.unmodifiableMap(biases), List.copyOf(biasLayers));
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Trainable tensors by PEFT key, in a stable order. */
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (LoraAdapter a : adapters) {
            out.putAll(a.parameters());
        }
        out.putAll(biases);
        return out;
    }

    public long trainableParameterCount() {
        long n = 0;
        for (NDArray p : trainable().values()) {
            n += p.size();
        }
        return n;
    }

    /** PEFT's {@code print_trainable_parameters} line (trained biases are base parameters: counted once). */
    public String trainableSummary() {
        long trainable = trainableParameterCount();
        long biasCount = 0;
        for (NDArray b : biases.values()) {
            biasCount += b.size();
        }
        long all = base.parameterCount() + trainable - biasCount;
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable, all, 100.0 * trainable / all);
    }

    /**
     * Folds every adapter into its base weight, computed in fp32 and cast to W's dtype: {@code W += scaling B A}
     * for plain LoRA, as its {@link LoraVariant} says otherwise.
     */
    public void merge() {
        mergeOrUnmerge(1);
    }

    /**
     * Runs {@code body} on the base model alone: every LoRA adapter is detached from its layer for the
     * duration (PEFT's {@code disable_adapter()}), which makes the base model the DPO reference policy
     * without a second copy of the weights. Trained biases stay, as in PEFT. Refused while merged.
     */
    public <T> T withAdaptersDisabled(java.util.function.Supplier<T> body) {
        for (LoraAdapter adapter : adapters) {
            if (adapter.merged()) {
                throw new IllegalStateException("the adapters are merged into the base weights; unmerge before "
                        + "disabling them");
            }
        }
        List<dev.finetune.trainer.model.LinearAdapter> saved = new ArrayList<>();
        for (Linear linear : adapted) {
            saved.add(linear.adapter());
            linear.setAdapter(null);
        }
        try {
            return body.get();
        } finally {
            for (int i = 0; i < adapted.size(); i++) {
                adapted.get(i).setAdapter(saved.get(i));
            }
        }
    }

    /** Reverts {@link #merge()}. */
    public void unmerge() {
        mergeOrUnmerge(-1);
    }

    private void mergeOrUnmerge(int sign) {
        Autograd.withoutGrad(() -> {
            Kernels k = base.kernels();
            for (int i = 0; i < adapters.size(); i++) {
                LoraAdapter adapter = adapters.get(i);
                if (adapter.merged() == (sign > 0)) {
                    continue;
                }
                Linear linear = adapted.get(i);
                try (NDManager scope = manager.newSubManager()) {
                    NDArray w32 = k.cast(linear.weight(), DataType.FLOAT32);
                    w32.attach(scope);
                    NDArray delta = adapter.b().matMul(adapter.a()).mul(adapter.scaling());
                    delta.attach(scope);
                    NDArray result = sign > 0 ? adapter.variant().merge(w32, delta, k, manager)
                            : adapter.variant().unmerge(w32, delta);
                    result.attach(scope);
                    NDArray updated = k.cast(result, base.dtype());
                    updated.attach(base.manager());
                    linear.replaceWeight(updated);
                }
                adapter.setMerged(sign > 0);
            }
        });
    }

    /** Copies values into the adapters (resume / loading a saved adapter); shapes must match. */
    public void load(Map<String, float[]> values) {
        for (Map.Entry<String, NDArray> e : trainable().entrySet()) {
            float[] v = values.get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("adapter has no tensor " + e.getKey());
            }
            if (v.length != e.getValue().size()) {
                throw new IllegalArgumentException("adapter tensor " + e.getKey() + " has " + v.length
                        + " values, expected shape " + e.getValue().getShape());
            }
            NDArray target = e.getValue();
            Autograd.withoutGrad(() -> {
                // adapters are fp32 (as created by attach). Index-put copies into the tensor's own storage;
                // NDArray.set(Buffer) would also do, but its JNI opens libtorch's deprecated
                // AutoNonVariableTypeMode guard, which prints a warning on stderr
                try (NDArray src = manager.create(v, target.getShape())) {
                    target.set(new NDIndex(":"), src);
                }
            });
        }
    }

    public List<LoraAdapter> adapters() {
        return adapters;
    }

    public DecoderModel base() {
        return base;
    }

    public LoraSettings settings() {
        return settings;
    }

    /** Detaches the adapters from the base model and frees them. */
    @Override
    public void close() {
        for (Linear l : adapted) {
            l.setAdapter(null);
        }
        for (Linear l : biasLayers) {
            l.setTrainableBias(null);
        }
        manager.close();
    }
}
