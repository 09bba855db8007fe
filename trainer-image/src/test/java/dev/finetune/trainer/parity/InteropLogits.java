package dev.finetune.trainer.parity;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.safetensors.DType;
import dev.finetune.trainer.safetensors.SafetensorsWriter;
import dev.finetune.trainer.script.Kernels;
import java.nio.file.Path;

/**
 * The Java side of the adapter interop check ({@code tools/reference/interop.sh}): writes the fp32 logits
 * of the Java model, optionally with a PEFT adapter loaded the way {@code finetune generate} loads it,
 * for each row of token ids in a JSON file ({@code [[ids...], ...]}), as {@code logits.<row>} [T, V]
 * in a safetensors file. Python then compares them with PEFT's.
 *
 * <pre>java -cp ... dev.finetune.trainer.parity.InteropLogits MODEL_DIR ADAPTER_DIR|- IDS.json OUT.safetensors</pre>
 */
public final class InteropLogits {

    private InteropLogits() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: InteropLogits MODEL_DIR ADAPTER_DIR|- IDS.json OUT.safetensors");
            System.exit(2);
        }
        Path modelDir = Path.of(args[0]);
        Path adapterDir = args[1].equals("-") ? null : Path.of(args[1]);
        JsonNode rows = new ObjectMapper().readTree(Path.of(args[2]).toFile());
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        try (NDManager manager = NDManager.newBaseManager();
                Kernels kernels = Kernels.load(manager);
                DecoderModel model = DecoderModel.load(modelDir, DataType.FLOAT32, manager, kernels)) {
            LoraModel lora = null;
            if (adapterDir != null) {
                PeftAdapter.Loaded loaded = PeftAdapter.read(adapterDir);
                lora = LoraModel.attach(model, loaded.settings(), 0);
                lora.load(loaded.tensors());
                System.out.println("adapter " + adapterDir + ": " + lora.adapters().size() + " adapted modules, scaling "
                        + lora.settings().scaling());
            }
            for (int r = 0; r < rows.size(); r++) {
                JsonNode row = rows.get(r);
                long[] ids = new long[row.size()];
                long[] pos = new long[row.size()];
                for (int t = 0; t < ids.length; t++) {
                    ids[t] = row.get(t).asLong();
                    pos[t] = t;
                }
                try (NDManager scope = manager.newSubManager()) {
                    Shape shape = new Shape(1, ids.length);
                    float[] logits = model.logits(scope.create(ids, shape), scope.create(pos, shape)).toFloatArray();
                    writer.addFloats("logits." + r, DType.F32, new long[] {ids.length, model.config().vocabSize()}, logits);
                }
            }
            if (lora != null) {
                lora.close();
            }
        }
        writer.write(Path.of(args[3]));
        System.out.println("wrote " + args[3]);
    }
}
