package dev.finetune.trainer.data;

import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.Batcher;
import dev.finetune.trainer.data.batch.TokenizedSample;
import dev.finetune.trainer.data.curriculum.StageEpoch;
import dev.finetune.trainer.data.curriculum.StagePlan;
import dev.finetune.trainer.data.report.DatasetReport;
import dev.finetune.trainer.data.tokenize.SpecialTokens;
import java.util.List;

/**
 * The output of {@link DatasetPipeline#prepare}: identical on every rank (every rank reads and tokenizes the
 * whole dataset with the same seed); the batchers deal this rank's share.
 *
 * @param train         all training samples (after selection and the eval split), in record order
 * @param eval          eval samples (split off or from evalPath), in record order; empty when evaluation is off
 * @param stages        curriculum stages in order (one stage "all" without a curriculum); train each stage's
 *                      samples for its epochs, at its learning rate when set
 * @param report        what happened, for people
 * @param specialTokens bos/eos/pad/stop ids of the model
 * @param options       how batches are built (batch size, pad id, packing, seed, rank, world size)
 * @param pairs         true for the preference methods: batches of chosen/rejected pairs
 */
public record PreparedDataset(List<TokenizedSample> train, List<TokenizedSample> eval, List<StagePlan> stages,
        DatasetReport report, SpecialTokens specialTokens, Batcher.Options options, boolean pairs) {

    public PreparedDataset(List<TokenizedSample> train, List<TokenizedSample> eval, List<StagePlan> stages,
            DatasetReport report, SpecialTokens specialTokens, Batcher.Options options) {
        this(train, eval, stages, report, specialTokens, options, false);
    }

    /** Batches of one stage for this rank: {@code batcher(stage).trainEpoch(e)} for e in 0..stage.epochs()-1. */
    public Batcher batcher(StagePlan stage) {
        return new Batcher(stage.samples(), options, pairs);
    }

    /** Eval batches for this rank (no shuffling, no repeats). */
    public Batcher evalBatcher() {
        return new Batcher(eval, options, pairs);
    }

    /** This rank's training batches, stage after stage, for {@link #totalEpochs()} epochs. */
    public TrainBatches trainBatches() {
        return new TrainBatches(this);
    }

    /** This rank's eval batches (none when evaluation is off). */
    public List<Batch> evalBatches() {
        return eval.isEmpty() ? List.of() : evalBatcher().evalBatches();
    }

    /** Epochs of all stages together. */
    public int totalEpochs() {
        return StageEpoch.totalEpochs(stages);
    }

    /** The stage that trains epoch {@code epoch} (0-based, over all stages). */
    public StagePlan stageAt(int epoch) {
        return StageEpoch.of(stages, epoch).stage();
    }
}
