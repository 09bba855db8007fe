package dev.finetune.trainer.run;

import dev.finetune.api.trainer.Failure;
import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.api.trainer.TrainerWarning;
import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.Outputs;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.trainer.preference.PreferenceMetrics;
import dev.finetune.trainer.progress.ProgressSink;
import dev.finetune.trainer.train.DynamicLossScaling;
import dev.finetune.trainer.train.EvalRecord;
import dev.finetune.trainer.train.LossScaleState;
import dev.finetune.trainer.train.StepMetrics;
import dev.finetune.trainer.train.Trainer;
import dev.finetune.trainer.train.TrainingListener;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * Turns loop events into {@link ProgressReport}s for the sinks and into what a person reads in a
 * terminal: a progress line per logged step and a table row per epoch.
 */
public final class RunReporter implements TrainingListener {

    private final List<ProgressSink> sinks;
    private final PrintStream out;
    private final int attempt;
    private final IntFunction<String> stageOfEpoch;
    private final Progress progress = new Progress();
    private final List<EpochRecord> history = new ArrayList<>();
    private final List<TrainerWarning> warnings = new ArrayList<>();
    private MemoryEstimate memory;
    private CheckpointRef lastCheckpoint;
    private Outputs outputs;
    private long sequence;
    private long startNanos = System.nanoTime();
    private long startStep;
    private boolean tableHeader;

    public RunReporter(List<ProgressSink> sinks, PrintStream out, int attempt, IntFunction<String> stageOfEpoch) {
        this.sinks = List.copyOf(sinks);
        this.out = out;
        this.attempt = attempt;
        this.stageOfEpoch = stageOfEpoch;
    }

    public void publish(TrainerState state, Failure failure) {
        progress.setUpdated(Instant.now().toString());
        ProgressReport report = new ProgressReport(ProgressReport.SCHEMA_VERSION, ++sequence, attempt, state, progress,
                history, lastCheckpoint, outputs, failure, memory, warnings);
        for (ProgressSink sink : sinks) {
            sink.publish(report);
        }
    }

    /** The final report (for the termination message), without history. */
    public ProgressReport finalReport(TrainerState state, Failure failure) {
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, sequence, attempt, state, progress, List.of(),
                lastCheckpoint, outputs, failure, memory, warnings);
    }

    /** A line for the person watching the terminal (outputs written, a stop on the way). */
    public void note(String line) {
        out.println(line);
    }

    /** Something the run worked around: printed now, and an Event on the job once the next report is read. */
    public void warn(TrainerWarning warning) {
        warnings.add(warning);
        out.println("warning: " + warning.message());
    }

    /** The estimated peak memory of a worker, reported so that an OOM-killed worker fails with a figure. */
    public void memory(MemoryEstimate estimate) {
        this.memory = estimate;
        out.println("estimated peak memory per worker: " + MemoryEstimate.human(estimate.bytes()) + " ("
                + estimate.breakdown() + ")");
    }

    public void initializing(String message) {
        out.println(message);
        publish(TrainerState.INITIALIZING, null);
    }

    @Override
    public void onStart(Trainer trainer, long totalSteps, int totalEpochs) {
        startNanos = System.nanoTime();
        startStep = trainer.state().globalStep();
        progress.setTotalSteps(totalSteps);
        progress.setTotalEpochs(totalEpochs);
        progress.setStep(trainer.state().globalStep());
        progress.setEpoch(trainer.state().epoch() + 1);
        for (EvalRecord r : trainer.state().history()) {
            history.add(toRecord(r));
        }
        progress.setBestEvalLoss(trainer.state().bestEvalLoss());
        progress.setBestEpoch(trainer.state().bestEpoch());
        publish(TrainerState.TRAINING, null);
    }

    @Override
    public void onStep(Trainer trainer, StepMetrics m) {
        progress.setStep(m.step());
        progress.setEpoch(m.epoch());
        progress.setStage(stageOfEpoch.apply(m.epoch() - 1));
        progress.setTrainLoss(finite(m.loss()));
        progress.setLearningRate(m.learningRate());
        progress.setGradNorm(finite(m.gradNorm()));
        progress.setTokensPerSecond(m.tokensPerSecond());
        progress.setLossScale(m.lossScale() == null ? null : m.lossScale().scale());
        progress.setSkippedSteps(m.lossScale() == null ? null : m.lossScale().skippedSteps());
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long done = m.step() - startStep;
        long eta = done <= 0 ? 0 : Math.round(elapsed / done * (m.totalSteps() - m.step()));
        progress.setEtaSeconds(eta);
        out.println(String.format(Locale.ROOT, "%s step %d/%d | epoch %d (%3.0f%%) | loss %.4f | grad norm %.3f | lr %.3e | %,.0f tok/s | eta %s%s",
                bar(m.step(), m.totalSteps()), m.step(), m.totalSteps(), m.epoch(), 100 * m.epochProgress(), m.loss(),
                m.gradNorm(), m.learningRate(), m.tokensPerSecond(), duration(eta), lossScaling(m.lossScale()))
                + rewards(trainer.preferenceTrain()));
        publish(TrainerState.TRAINING, null);
    }

    /** dpo and orpo: reward accuracy and margin of the training pairs since the previous log line. */
    private static String rewards(PreferenceMetrics m) {
        return m == null || m.pairs() == 0 ? "" : String.format(Locale.ROOT, " | reward acc %.3f margin %.3f",
                m.rewardAccuracy(), m.rewardMargin());
    }

    /** fp16 only: the loss scale after the step, and the overflowed steps that were skipped. */
    private static String lossScaling(LossScaleState scale) {
        if (scale == null) {
            return "";
        }
        String text = " | loss scale " + DynamicLossScaling.format(scale.scale());
        if (scale.skippedSteps() > 0) {
            text += " | " + scale.skippedSteps() + " skipped";
        }
        return scale.lastStepSkipped() ? text + " (this step: gradients overflowed, update skipped)" : text;
    }

    @Override
    public void onEvaluation(Trainer trainer, EvalRecord r, boolean improved) {
        history.add(toRecord(r));
        progress.setEvalLoss(r.evalLoss());
        progress.setPerplexity(r.perplexity());
        PreferenceMetrics rewards = trainer.preferenceEval();
        if (rewards != null) {
            progress.setRewardAccuracy(rewards.rewardAccuracy());
            progress.setRewardMargin(rewards.rewardMargin());
        }
        progress.setBestEvalLoss(trainer.state().bestEvalLoss());
        progress.setBestEpoch(trainer.state().bestEpoch());
        if (r.epochEnd()) {
            if (!tableHeader) {
                out.println();
                out.println(String.format(Locale.ROOT, "%-6s %-8s %-11s %-10s %-11s %-10s", "epoch", "step", "train loss",
                        "eval loss", "perplexity", "tokens/s"));
                tableHeader = true;
            }
            out.println(String.format(Locale.ROOT, "%-6d %-8d %-11s %-10s %-11s %-10s%s", r.epoch(), r.step(),
                    fmt(r.trainLoss()), fmt(r.evalLoss()), fmt(r.perplexity()),
                    r.tokensPerSecond() == null ? "-" : String.format(Locale.ROOT, "%,.0f", r.tokensPerSecond()),
                    improved ? "  (best)" : ""));
        } else {
            out.println(String.format(Locale.ROOT, "eval at step %d: loss %s, perplexity %s%s", r.step(), fmt(r.evalLoss()),
                    fmt(r.perplexity()), improved ? " (best)" : ""));
        }
        if (rewards != null) {
            out.println(String.format(Locale.ROOT, "  rewards at step %d: accuracy %s, margin %s, chosen %s, rejected %s",
                    r.step(), fmt(rewards.rewardAccuracy()), fmt(rewards.rewardMargin()), fmt(rewards.rewardChosen()),
                    fmt(rewards.rewardRejected())));
        }
        publish(TrainerState.EVALUATING, null);
    }

    public void checkpointed(int epoch, long step, String path) {
        lastCheckpoint = new CheckpointRef(epoch, step, path, Instant.now().toString());
        publish(TrainerState.CHECKPOINTING, null);
    }

    public void outputs(Outputs outputs) {
        this.outputs = outputs;
    }

    public List<EpochRecord> history() {
        return history;
    }

    private EpochRecord toRecord(EvalRecord r) {
        return new EpochRecord(r.epoch(), r.step(), stageOfEpoch.apply(r.epoch() - 1), r.trainLoss(), r.evalLoss(), r.perplexity(),
                r.tokensPerSecond(), Instant.now().toString());
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String bar(long done, long total) {
        int width = 20;
        int filled = (int) Math.round((double) width * done / Math.max(1, total));
        return "[" + "#".repeat(Math.min(width, filled)) + ".".repeat(Math.max(0, width - filled)) + "]";
    }

    static String duration(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60)
                : String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
}
