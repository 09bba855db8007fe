package dev.finetune.trainer.run;

import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.curriculum.StagePlan;
import dev.finetune.trainer.train.Batch;
import dev.finetune.trainer.train.BatchSource;
import dev.finetune.trainer.train.TokenBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Plugs the data package's batches into the train loop. Curriculum stages run one after the other:
 * the loop's epoch {@code e} is epoch {@code e - start(stage)} of the stage that covers it.
 */
public final class DataBatches implements BatchSource {

    private final List<StagePlan> stages;
    private final List<Batcher> batchers = new ArrayList<>();
    private int cachedEpoch = -1;
    private List<dev.finetune.trainer.data.batch.Batch> cached;

    public DataBatches(PreparedDataset data) {
        this.stages = data.stages();
        for (StagePlan stage : stages) {
            batchers.add(data.batcher(stage));
        }
    }

    public int totalEpochs() {
        return stages.stream().mapToInt(StagePlan::epochs).sum();
    }

    /** The stage training epoch {@code epoch} (0-based) belongs to. */
    public StagePlan stageOf(int epoch) {
        int e = epoch;
        for (StagePlan stage : stages) {
            if (e < stage.epochs()) {
                return stage;
            }
            e -= stage.epochs();
        }
        return stages.getLast();
    }

    private List<dev.finetune.trainer.data.batch.Batch> epochBatches(int epoch) {
        if (epoch != cachedEpoch) {
            int e = epoch;
            for (int s = 0; s < stages.size(); s++) {
                if (e < stages.get(s).epochs() || s == stages.size() - 1) {
                    cached = batchers.get(s).trainEpoch(e);
                    break;
                }
                e -= stages.get(s).epochs();
            }
            cachedEpoch = epoch;
        }
        return cached;
    }

    @Override
    public int batchesPerEpoch(int epoch) {
        return epochBatches(epoch).size();
    }

    @Override
    public Batch batch(int epoch, int index) {
        return convert(epochBatches(epoch).get(index));
    }

    public static List<Batch> eval(PreparedDataset data) {
        List<Batch> out = new ArrayList<>();
        if (data.eval().isEmpty()) {
            return out;
        }
        for (dev.finetune.trainer.data.batch.Batch b : data.evalBatcher().evalBatches()) {
            out.add(convert(b));
        }
        return out;
    }

    /**
     * Converts to the loop's batch. Rows holding a single sequence followed by padding need no mask
     * (causal attention never looks right, and padding carries no labels), so segment ids are kept
     * only for packed rows; the attention kernel then takes its fast causal path.
     */
    public static Batch convert(dev.finetune.trainer.data.batch.Batch b) {
        int rows = b.rows();
        int width = b.width();
        long[] ids = new long[rows * width];
        long[] labels = new long[rows * width];
        long[] positions = new long[rows * width];
        long[] segments = new long[rows * width];
        boolean packed = false;
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < width; t++) {
                int i = r * width + t;
                ids[i] = b.inputIds()[r][t];
                labels[i] = b.labels()[r][t];
                positions[i] = b.positionIds()[r][t];
                segments[i] = b.segmentIds() == null ? (t < b.lengths()[r] ? 1 : 0) : b.segmentIds()[r][t];
                if (segments[i] > 1) {
                    packed = true;
                }
            }
        }
        return new TokenBatch(rows, width, ids, labels, positions, packed ? segments : null);
    }
}
