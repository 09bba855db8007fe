package dev.finetune.gpucheck;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.api.v1alpha1.Scheduler;
import dev.finetune.api.v1alpha1.TargetModule;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.lora.LoraSettings;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.script.Kernels;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import dev.finetune.trainer.train.TrainingSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The committed HF goldens on the device in fp32, and a bf16 LoRA training step against the same step in fp32. */
final class NumericsChecks {

    /** bf16 vs fp32 on the same step: loss within 2 %, gradient norm within 10 % (bf16 keeps 8 significant bits). */
    static final double BF16_LOSS_RELATIVE = 2e-2;
    static final double BF16_GRAD_NORM_RELATIVE = 1e-1;

    private NumericsChecks() {}

    /** Logits of one sequence for every golden architecture, within index.json's "logits" tolerance (as on CPU). */
    static Map<String, Object> parity(NDManager manager, Kernels kernels, Goldens goldens) throws Exception {
        Goldens.Tolerance tolerance = goldens.tolerance("logits");
        Map<String, Object> maxAbs = new LinkedHashMap<>();
        for (var arch : goldens.index().get("archs")) {
            Path dir = goldens.root().resolve(arch.asText());
            Path file = dir.resolve("base.safetensors");
            Map<String, Goldens.Tensor> g = Goldens.tensors(file);
            Goldens.Tensor ids = Goldens.require(g, "single_ids", file);
            long[] positions = new long[ids.longs().length];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = i;
            }
            Shape shape = new Shape(ids.shape());
            try (NDManager m = manager.newSubManager();
                    DecoderModel model = DecoderModel.load(dir.resolve("model"), DataType.FLOAT32, m, kernels)) {
                float[] logits = model.logits(m.create(ids.longs(), shape), m.create(positions, shape)).toFloatArray();
                maxAbs.put(arch.asText(), tolerance.check(arch.asText() + " logits on " + manager.getDevice(), logits,
                        Goldens.require(g, "logits_single", file).floats()));
            }
        }
        Report.require(!maxAbs.isEmpty(), goldens.root().resolve("index.json") + " lists no archs");
        return Report.figures("device", manager.getDevice().toString(), "tolerance",
                Map.of("atol", tolerance.atol(), "rtol", tolerance.rtol(), "scaled", tolerance.scaled()), "maxAbsByArch", maxAbs);
    }

    /**
     * Two LoRA (r8, all linear) training steps of the tiny Llama golden model on its golden batch, in bf16 and in
     * fp32 from the same initial adapter: the bf16 losses and gradient norms against fp32's. The measured
     * relative differences are the bf16 tolerance this device achieves.
     */
    static Map<String, Object> bf16Step(NDManager manager, Kernels kernels, Goldens goldens) throws Exception {
        Path dir = goldens.root().resolve("llama");
        Path file = dir.resolve("base.safetensors");
        Map<String, Goldens.Tensor> g = Goldens.tensors(file);
        Goldens.Tensor ids = Goldens.require(g, "batch_ids", file);
        long[] mask = Goldens.require(g, "batch_attention_mask", file).longs();
        int rows = (int) ids.shape()[0];
        int length = (int) ids.shape()[1];
        long[] tokens = ids.longs();
        int[] input = new int[tokens.length];
        int[] labels = new int[tokens.length];
        int[] positions = new int[tokens.length];
        int[] segments = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            input[i] = (int) tokens[i];
            labels[i] = mask[i] == 1 ? (int) tokens[i] : -100;
            positions[i] = i % length;
            segments[i] = mask[i] == 1 ? 1 : 0;
        }
        Batch batch = new Batch(rows, length, input, labels, positions, segments);
        List<StepMetrics> fp32 = steps(manager, kernels, dir, DataType.FLOAT32, batch);
        List<StepMetrics> bf16 = steps(manager, kernels, dir, DataType.BFLOAT16, batch);
        double lossRel = 0;
        double normRel = 0;
        List<List<Double>> pairs = new ArrayList<>();
        for (int i = 0; i < fp32.size(); i++) {
            StepMetrics a = fp32.get(i);
            StepMetrics b = bf16.get(i);
            Report.require(Double.isFinite(b.loss()) && Double.isFinite(b.gradNorm()),
                    "bf16 step " + (i + 1) + ": loss " + b.loss() + ", grad norm " + b.gradNorm());
            lossRel = Math.max(lossRel, Math.abs(b.loss() - a.loss()) / Math.abs(a.loss()));
            normRel = Math.max(normRel, Math.abs(b.gradNorm() - a.gradNorm()) / Math.abs(a.gradNorm()));
            pairs.add(List.of(a.loss(), b.loss(), a.gradNorm(), b.gradNorm()));
        }
        Report.require(lossRel <= BF16_LOSS_RELATIVE, "bf16 loss differs from fp32 by " + lossRel + " (relative, > " + BF16_LOSS_RELATIVE + ")");
        Report.require(normRel <= BF16_GRAD_NORM_RELATIVE,
                "bf16 gradient norm differs from fp32 by " + normRel + " (relative, > " + BF16_GRAD_NORM_RELATIVE + ")");
        return Report.figures("device", manager.getDevice().toString(), "lossRelative", lossRel, "gradNormRelative", normRel,
                "fp32VsBf16LossAndGradNormPerStep", pairs);
    }

    static List<StepMetrics> steps(NDManager manager, Kernels kernels, Path dir, DataType dtype, Batch batch) {
        List<StepMetrics> out = new ArrayList<>();
        TrainingListener record = new TrainingListener() {
            @Override
            public void onStep(Trainer trainer, StepMetrics metrics) {
                out.add(metrics);
            }
        };
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch(int epoch) {
                return 2;
            }

            @Override
            public Batch batch(int epoch, int index) {
                return batch;
            }
        };
        try (NDManager m = manager.newSubManager();
                DecoderModel model = DecoderModel.load(dir.resolve("model"), dtype, m, kernels);
                LoraModel lora = LoraModel.attach(model, LoraSettings.of(8, 16, TargetModule.ALL_LINEAR), 3)) {
            TrainingSettings settings = new TrainingSettings(1, 1e-2, Scheduler.CONSTANT, 0, null, 1, 1.0, 0, false, 1, 1, 0,
                    2, 0, 0);
            new Trainer(lora, settings, source, List.of(), List.of(record)).run();
        }
        Report.require(out.size() == 2, dtype + " training logged " + out.size() + " steps, expected 2");
        return out;
    }
}
