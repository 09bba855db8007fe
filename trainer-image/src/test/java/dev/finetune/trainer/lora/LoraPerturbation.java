package dev.finetune.trainer.lora;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Moves a freshly attached adapter away from its initialisation so every term of the forward and backward
 * pass matters in a test: {@code lora_B} (zero at init) drawn from N(0, bStd), and DoRA's magnitude vector
 * scaled by {@code 1 + magnitudeStd * N(0, 1)}. One {@link Random} of the given seed draws every value, in
 * the adapter's tensor order, so a test is reproducible.
 */
public final class LoraPerturbation {

    private LoraPerturbation() {
    }

    public static LoraModel perturb(LoraModel lora, long seed, double bStd, double magnitudeStd) {
        Random r = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        lora.trainable().forEach((k, v) -> {
            float[] x = v.toFloatArray();
            if (k.endsWith("lora_B.weight")) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (r.nextGaussian() * bStd);
                }
            } else if (k.endsWith("lora_magnitude_vector") && magnitudeStd != 0) {
                for (int i = 0; i < x.length; i++) {
                    x[i] *= (float) (1 + magnitudeStd * r.nextGaussian());
                }
            }
            values.put(k, x);
        });
        lora.load(values);
        return lora;
    }
}
