package dev.finetune.trainer.run;

import dev.finetune.api.v1alpha1.OutputSpec;
import dev.finetune.trainer.checkpoint.PeftAdapter;
import dev.finetune.trainer.checkpoint.TrainingCheckpoint;
import dev.finetune.trainer.train.EvalRecord;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import java.nio.file.Path;

/**
 * Writes what a run leaves behind while it trains: a PEFT adapter per epoch ({@code epochs/epoch-N}),
 * the best adapter by eval loss ({@code adapter-best}), resumable checkpoints after each epoch and on
 * SIGTERM ({@code checkpoints/checkpoint-<step>}, newest {@code keepCheckpoints} kept).
 */
public final class RunOutputs implements TrainingListener {

    private final Path outputDir;
    private final String baseModel;
    private final OutputSpec spec;
    private final RunReporter reporter;
    private boolean bestWritten;

    /** {@code spec}: how many checkpoints to keep, and whether every epoch leaves an adapter. */
    public RunOutputs(Path outputDir, String baseModel, OutputSpec spec, RunReporter reporter) {
        this.outputDir = outputDir;
        this.baseModel = baseModel;
        this.spec = spec;
        this.reporter = reporter;
    }

    public Path finalAdapter() {
        return outputDir.resolve("adapter");
    }

    public Path bestAdapter() {
        return outputDir.resolve("adapter-best");
    }

    public boolean bestWritten() {
        return bestWritten;
    }

    @Override
    public void onEvaluation(Trainer trainer, EvalRecord record, boolean improved) {
        if (improved && record.evalLoss() != null && trainer.state().globalStep() > 0) {
            RunArtifacts.writing("the best adapter", bestAdapter(),
                    () -> PeftAdapter.write(bestAdapter(), trainer.lora(), baseModel, true));
            bestWritten = true;
        }
    }

    @Override
    public void onEpochEnd(Trainer trainer, int epoch) {
        if (spec.isSaveEveryEpoch()) {
            Path dir = outputDir.resolve("epochs").resolve("epoch-" + (epoch + 1));
            RunArtifacts.writing("the adapter of epoch " + (epoch + 1), dir,
                    () -> PeftAdapter.write(dir, trainer.lora(), baseModel, true));
            reporter.note("adapter for epoch " + (epoch + 1) + ": " + dir);
        }
        checkpoint(trainer, epoch);
    }

    @Override
    public void onInterrupt(Trainer trainer) {
        reporter.note("stop requested: writing a checkpoint at step " + trainer.state().globalStep());
        checkpoint(trainer, trainer.state().epoch());
    }

    private void checkpoint(Trainer trainer, int epoch) {
        long step = trainer.state().globalStep();
        Path[] saved = new Path[1];
        RunArtifacts.writing("the checkpoint at step " + step, outputDir.resolve(TrainingCheckpoint.DIR), () -> {
            saved[0] = TrainingCheckpoint.save(outputDir, trainer, baseModel);
            TrainingCheckpoint.retain(outputDir, spec.getKeepCheckpoints(), saved[0]);
        });
        reporter.checkpointed(epoch + 1, step, outputDir.relativize(saved[0]).toString());
    }
}
