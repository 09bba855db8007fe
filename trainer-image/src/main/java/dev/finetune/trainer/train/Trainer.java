package dev.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.finetune.api.trainer.FailureReason;
import dev.finetune.trainer.data.batch.Batch;
import dev.finetune.trainer.data.batch.BatchSource;
import dev.finetune.trainer.data.label.Labels;
import dev.finetune.trainer.dist.Collective;
import dev.finetune.trainer.engine.Autograd;
import dev.finetune.trainer.lora.LoraModel;
import dev.finetune.trainer.model.DecoderModel;
import dev.finetune.trainer.model.ForwardContext;
import dev.finetune.trainer.preference.PairLoss;
import dev.finetune.trainer.preference.PreferenceLoss;
import dev.finetune.trainer.preference.PreferenceMetrics;
import dev.finetune.trainer.preference.PreferenceObjective;
import dev.finetune.trainer.script.Kernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntToDoubleFunction;

/**
 * The training loop (one process). Per optimizer step: the step's micro-batches are forwarded and
 * back-propagated with the loss scaled by {@code lossScale / (label tokens of the whole step)}, so
 * accumulation gives exactly the gradient of the step's token-mean loss (times the fp16 loss scale, 1
 * otherwise); then global-norm clipping of the unscaled gradients, AdamW with the scheduled learning
 * rate, and zeroed gradients. In fp16 a step whose gradients overflowed is skipped instead (see
 * {@link DynamicLossScaling}). Dropout masks depend only on
 * (seed, micro-batch number, layer), data order only on (seed, epoch): a resumed run repeats an
 * uninterrupted one exactly.
 *
 * <p>When the train loss and the gradient norm are read: a step's NLL sum, gradient norm and clipping factor stay
 * on the device ({@link UnreadSteps}); the loop reads the unread steps at every log step, at most
 * {@link #MAX_UNREAD_STEPS} steps apart, before every evaluation, before the checkpoint of a stop request, and (fp16
 * loss scaling, which reads each step's norm to decide on a skip) on the step whose gradients come out
 * non-finite. So nothing that writes or reports (evaluation records, adapters, checkpoints, progress) runs on
 * steps whose figures were not checked, and a non-finite loss or norm fails the run naming the step where it
 * first appeared.
 */
public final class Trainer {

    /** The most steps whose figures wait on the device unread, when log steps are further apart (or logging is off). */
    static final int MAX_UNREAD_STEPS = 100;

    /**
     * How the loop runs beyond its hyperparameters.
     *
     * @param collective data parallelism: this process trains on its shard (the {@link BatchSource} must
     *     already be this rank's share, with the same number of micro-batches on every rank); label-token
     *     counts, gradients, NLL sums and stop requests are summed over all ranks, so every replica takes the
     *     same step
     * @param learningRateScale a factor on the scheduled learning rate per epoch (curriculum stages with their
     *     own peak learning rate: stage rate / base rate)
     * @param lossScaling the loss-scaling policy; null chooses it from the compute dtype (GradScaler's defaults
     *     for fp16, off otherwise)
     * @param preference the preference loss (training.method dpo or orpo; the batches are then pair batches), or
     *     null for SFT
     */
    public record Options(Collective collective, IntToDoubleFunction learningRateScale, DynamicLossScaling lossScaling,
            PreferenceLoss preference) {

        /** One process, the scheduled learning rate, loss scaling by dtype. */
        public static Options defaults() {
            return new Options(Collective.single(), epoch -> 1.0, null, null);
        }

        public Options withCollective(Collective c) {
            return new Options(c, learningRateScale, lossScaling, preference);
        }

        public Options withLearningRateScale(IntToDoubleFunction scale) {
            return new Options(collective, scale, lossScaling, preference);
        }

        public Options withLossScaling(DynamicLossScaling scaling) {
            return new Options(collective, learningRateScale, scaling, preference);
        }

        public Options withPreference(PreferenceLoss loss) {
            return new Options(collective, learningRateScale, lossScaling, loss);
        }
    }

    private final LoraModel lora;
    private final DecoderModel model;
    private final Kernels kernels;
    private final TrainingSettings settings;
    private final BatchSource train;
    private final List<Batch> eval;
    private final List<TrainingListener> listeners;
    private final Map<String, NDArray> params;
    private final AdamW optimizer;
    /** Whether every trained tensor got a gradient from the first backward pass (null: none ran yet). */
    private Boolean everyParameterHasAGradient;
    private final CausalLmLoss loss;
    private final Backprop backprop;
    private final LrSchedule schedule;
    private final long totalSteps;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final DynamicLossScaling lossScaling;
    private final IntToDoubleFunction lrScaleForEpoch;
    private final Collective collective;
    private final UnreadSteps unreadSteps;
    /** The loss (NLL sum, all ranks) of the latest step read, for the progress line of a log step. */
    private double latestStepNll;
    private final PreferenceObjective objective;
    private PreferenceMetrics preferenceEval;
    private PreferenceMetrics preferenceSinceLog = new PreferenceMetrics();
    private PreferenceMetrics preferenceTrain;
    private TrainingState state;

    /** A trainer with {@link Options#defaults()}. */
    public Trainer(LoraModel lora, TrainingSettings settings, BatchSource train, List<Batch> eval,
            List<TrainingListener> listeners) {
        this(lora, settings, train, eval, listeners, Options.defaults());
    }

    public Trainer(LoraModel lora, TrainingSettings settings, BatchSource train, List<Batch> eval,
            List<TrainingListener> listeners, Options options) {
        this.lora = lora;
        this.model = lora.base();
        this.kernels = model.kernels();
        this.settings = settings;
        this.train = train;
        this.eval = eval;
        this.listeners = List.copyOf(listeners);
        this.collective = options.collective();
        this.unreadSteps = new UnreadSteps(lora.base().manager(), collective);
        this.lrScaleForEpoch = options.learningRateScale();
        this.params = lora.trainable();
        this.optimizer = new AdamW(params, settings.weightDecay(), lora.base().manager(), kernels);
        this.loss = new CausalLmLoss(kernels, model.lmHead(), model.config().vocabSize());
        this.backprop = new Backprop(model, settings.gradientCheckpointing());
        this.objective = options.preference() == null ? null : new PreferenceObjective(lora, options.preference());
        long steps = 0;
        for (int e = 0; e < settings.epochs(); e++) {
            steps += stepsInEpoch(e);
        }
        if (settings.maxSteps() > 0) {
            steps = Math.min(steps, settings.maxSteps());
        }
        if (steps == 0) {
            throw new TrainingException(FailureReason.BAD_DATA, "the training set yields no batches");
        }
        this.totalSteps = steps;
        this.schedule = new LrSchedule(settings.scheduler(), settings.learningRate(), settings.warmupFor(steps), steps);
        this.lossScaling = options.lossScaling() != null ? options.lossScaling() : DynamicLossScaling.forDtype(model.dtype());
        this.state = TrainingState.start(settings.seed()).withLossScale(lossScaling.initialState());
    }

    public DynamicLossScaling lossScaling() {
        return lossScaling;
    }

    private long stepsInEpoch(int epoch) {
        int n = train.batchesPerEpoch(epoch);
        return (n + settings.gradientAccumulationSteps() - 1) / settings.gradientAccumulationSteps();
    }

    /** Continue from a checkpoint's state (weights and optimizer moments restored by the caller). */
    public void resume(TrainingState saved) {
        if (saved.seed() != settings.seed()) {
            throw new TrainingException(FailureReason.BAD_CONFIG, "checkpoint was made with seed " + saved.seed()
                    + " but training.seed is " + settings.seed() + "; resuming would not reproduce the run");
        }
        if (!lossScaling.enabled()) {
            this.state = saved.withLossScale(null);
        } else if (saved.lossScale() == null) {
            // a state without a loss scale (a bf16 or fp32 run saves none) starts from the default scale
            this.state = saved.withLossScale(lossScaling.initialState());
        } else {
            this.state = saved;
        }
    }

    /** Ask the loop to stop at the next step boundary (SIGTERM handler). */
    public void requestStop() {
        stopRequested.set(true);
    }

    public TrainingState run() {
        listeners.forEach(l -> l.onStart(this, totalSteps, settings.epochs()));
        long startNanos = System.nanoTime();
        long tokensSinceLog = 0;
        long logStart = System.nanoTime();
        // throughput between evaluations (this process's training time only), for the evaluation's record
        long tokensSinceEval = 0;
        long evalIntervalStart = System.nanoTime();
        // a run resumed from a checkpoint taken at maxSteps has nothing left to do
        boolean stop = settings.maxSteps() > 0 && state.globalStep() >= settings.maxSteps();
        for (int epoch = state.epoch(); epoch < settings.epochs() && !stop; epoch++) {
            int batches = train.batchesPerEpoch(epoch);
            int index = epoch == state.epoch() ? state.nextBatch() : 0;
            if (epoch != state.epoch()) {
                state = state.atEpochStart(epoch);
            }
            while (index < batches) {
                if (stopAgreed()) {
                    // the stop's checkpoint is taken from checked steps only
                    readUnreadSteps();
                    listeners.forEach(l -> l.onInterrupt(this));
                    throw new TrainingException(FailureReason.INTERRUPTED, "stopped at step " + state.globalStep() + " on request");
                }
                int end = Math.min(batches, index + settings.gradientAccumulationSteps());
                List<Batch> group = new ArrayList<>();
                for (int i = index; i < end; i++) {
                    group.add(train.batch(epoch, i));
                }
                // as HF Trainer: a skipped fp16 step counts as a step (data, max_steps, eval and log cadence) but
                // does not advance the learning-rate schedule, which follows the optimizer steps actually taken
                double lr = schedule.at(state.globalStep() - state.skippedSteps()) * lrScaleForEpoch.applyAsDouble(epoch);
                StepResult result = step(group, lr, epoch, index);
                index = end;
                LossScaleState scale = state.lossScale() == null ? null
                        : lossScaling.next(state.lossScale(), result.gradientsFinite, state.globalStep() + 1);
                state = state.afterStep(index, result.labelTokens, scale);
                tokensSinceLog += result.tokens;
                tokensSinceEval += result.tokens;
                long step = state.globalStep();
                boolean logStep = settings.logEverySteps() > 0
                        && (step % settings.logEverySteps() == 0 || step == totalSteps);
                if (logStep || unreadSteps.size() >= MAX_UNREAD_STEPS) {
                    readUnreadSteps();
                }
                if (logStep) {
                    if (objective != null) {
                        // every rank logs at the same steps: the pairs of all ranks since the last log
                        double[] sums = preferenceSinceLog.sums();
                        preferenceTrain = PreferenceMetrics.of(collective.worldSize() > 1 ? collective.allReduceSum(sums) : sums);
                        preferenceSinceLog = new PreferenceMetrics();
                    }
                    double seconds = (System.nanoTime() - logStart) / 1e9;
                    StepMetrics metrics = new StepMetrics(step, totalSteps, epoch + 1, (double) index / batches,
                            result.labelTokens == 0 ? Double.NaN : latestStepNll / result.labelTokens,
                            unreadSteps.latestGradientNorm(), lr,
                            tokensSinceLog / Math.max(seconds, 1e-9), (System.nanoTime() - startNanos) / 1e9,
                            state.lossScale());
                    listeners.forEach(l -> l.onStep(this, metrics));
                    tokensSinceLog = 0;
                    logStart = System.nanoTime();
                }
                boolean last = settings.maxSteps() > 0 && step >= settings.maxSteps();
                if (settings.evalEverySteps() > 0 && step % settings.evalEverySteps() == 0 && index < batches && !last) {
                    boolean earlyStop = evaluateAndTrack(epoch, false, throughput(tokensSinceEval, evalIntervalStart));
                    tokensSinceEval = 0;
                    evalIntervalStart = System.nanoTime();
                    if (earlyStop) {
                        stop = true;
                        break;
                    }
                }
                if (last) {
                    stop = true;
                    break;
                }
            }
            if (evaluateAndTrack(epoch, true, throughput(tokensSinceEval, evalIntervalStart))) {
                stop = true;
            }
            tokensSinceEval = 0;
            evalIntervalStart = System.nanoTime();
            // the epoch is complete: a checkpoint taken now resumes at the next epoch
            if (index >= batches) {
                state = state.atEpochStart(epoch + 1);
            }
            final int finishedEpoch = epoch;
            listeners.forEach(l -> l.onEpochEnd(this, finishedEpoch));
        }
        readUnreadSteps();
        listeners.forEach(l -> l.onFinish(this));
        return state;
    }

    /**
     * Reads the unread steps' losses and gradient norms (one host read; one all-reduce when distributed), adding the
     * losses to the epoch's NLL sum in step order; fails with NAN_LOSS at the first non-finite loss or norm.
     * Collective: all ranks read at the same steps.
     */
    private void readUnreadSteps() {
        for (double nll : unreadSteps.read()) {
            state = state.plusTrainNll(nll);
            latestStepNll = nll;
        }
    }

    /** A stop requested on any rank stops all ranks at the same step. */
    private boolean stopAgreed() {
        if (collective.worldSize() == 1) {
            return stopRequested.get();
        }
        return collective.allReduceSum(new double[] {stopRequested.get() ? 1 : 0})[0] > 0;
    }

    /** Tokens per second of training since {@code sinceNanos}; null when no token was trained (nothing measured). */
    private static Double throughput(long tokens, long sinceNanos) {
        double seconds = (System.nanoTime() - sinceNanos) / 1e9;
        return tokens == 0 ? null : tokens / Math.max(seconds, 1e-9);
    }

    /**
     * Evaluates, records history (with the training throughput since the previous evaluation) and early stopping;
     * returns true when training should stop early.
     */
    private boolean evaluateAndTrack(int epoch, boolean epochEnd, Double tokensPerSecond) {
        // the record's train loss, and the adapters and checkpoints written after it, need every step checked
        readUnreadSteps();
        boolean anyEval = collective.worldSize() == 1 ? !eval.isEmpty()
                : collective.allReduceSum(new double[] {eval.size()})[0] > 0;
        Double evalLoss = anyEval ? evaluate() : null;
        Double trainLoss = state.epochTokens() == 0 ? null : state.epochNll() / state.epochTokens();
        // perplexity is exp(token-mean NLL): it means something for SFT only
        EvalRecord record = new EvalRecord(epoch + 1, state.globalStep(), trainLoss, evalLoss,
                evalLoss == null || objective != null ? null : Math.exp(evalLoss), tokensPerSecond, epochEnd);
        boolean improved = false;
        Double best = state.bestEvalLoss();
        Integer bestEpoch = state.bestEpoch();
        int without = state.evalsWithoutImprovement();
        if (evalLoss != null) {
            if (!Double.isFinite(evalLoss)) {
                throw new TrainingException(FailureReason.NAN_LOSS, "eval loss is " + evalLoss + " at step " + state.globalStep());
            }
            if (best == null || evalLoss < best - settings.earlyStoppingMinDelta()) {
                improved = true;
                without = 0;
            } else {
                without++;
            }
            if (best == null || evalLoss < best) {
                best = evalLoss;
                bestEpoch = epoch + 1;
            }
        }
        state = state.afterEvaluation(record, best, bestEpoch, without);
        final boolean improvedFinal = improved;
        listeners.forEach(l -> l.onEvaluation(this, record, improvedFinal));
        return settings.earlyStoppingPatience() > 0 && without >= settings.earlyStoppingPatience();
    }

    /**
     * {@code gradientsFinite} false means the optimizer step was skipped (fp16). The step's loss and gradient norm
     * are in {@link #unreadSteps}, unread.
     */
    private record StepResult(long labelTokens, long tokens, boolean gradientsFinite) {}

    private StepResult step(List<Batch> group, double lr, int epoch, int firstIndex) {
        long localLabelTokens = 0;
        long localTokens = 0;
        for (Batch b : group) {
            localLabelTokens += b.labelTokens();
            localTokens += b.realTokens();
        }
        long labelTokens = localLabelTokens;
        long tokens = localTokens;
        boolean distributed = collective.worldSize() > 1;
        if (distributed) {
            double[] counts = collective.allReduceSum(new double[] {localLabelTokens, localTokens});
            labelTokens = Math.round(counts[0]);
            tokens = Math.round(counts[1]);
        }
        long stepNumber = state.globalStep() + 1;
        if (labelTokens == 0) {
            unreadSteps.addOnHost(stepNumber, epoch, firstIndex, 0);
            unreadSteps.gradientNorm(0);
            return new StepResult(0, tokens, true);
        }
        // fp16: the backward runs on loss x scale so that small activation gradients stay above fp16's
        // smallest subnormal (2^-24); 1 in bf16/fp32, which leaves their arithmetic exactly as it was
        double lossScale = state.lossScale() == null ? 1.0 : state.lossScale().scale();
        double[] pairCounts = objective == null ? null : pairCounts(group, distributed);
        // this rank's NLL sum of the step, added in micro-batch order: on the device for SFT (unread), on the
        // host for the preference losses (their pair metrics are read per step)
        NDArray deviceNll = null;
        double hostNll = 0;
        for (int i = 0; i < group.size(); i++) {
            long microIndex = (state.globalStep() * settings.gradientAccumulationSteps() + i) * collective.worldSize()
                    + collective.rank();
            ForwardContext ctx = new ForwardContext(kernels, true, ForwardContext.mix(settings.seed(), microIndex));
            if (objective == null) {
                NDArray nll = forwardBackward(group.get(i), ctx, lossScale / labelTokens);
                if (nll != null) {
                    deviceNll = deviceNll == null ? nll : deviceNll.add(nll);
                    deviceNll.attach(unreadSteps.manager());
                }
            } else {
                hostNll += preferenceForwardBackward(group.get(i), ctx, lossScale, pairCounts, labelTokens);
            }
        }
        if (deviceNll != null) {
            unreadSteps.addOnDevice(stepNumber, epoch, firstIndex, deviceNll);
        } else {
            unreadSteps.addOnHost(stepNumber, epoch, firstIndex, hostNll);
        }
        try (NDManager scope = model.manager().newSubManager()) {
            // on one rank the gradients stay where the backward pass stored them and the kernels read them there
            // (null); several ranks reduce them through one flat tensor first
            Map<String, NDArray> grads = distributed || !everyParameterHasAGradient(localLabelTokens)
                    ? handedOverGradients(localLabelTokens, distributed, scope)
                    : null;
            NDArray squaredSum = grads == null ? kernels.storedGradientSquaredSumOnDevice(List.copyOf(params.values()))
                    : kernels.squaredSumOnDevice(List.copyOf(grads.values()));
            squaredSum.attach(scope);
            // the norm and the clipping factor (the unscaling folded in) stay on the device; computed from the
            // all-reduced gradients, they are the same on every rank
            GradientClipping.OnDevice clip = GradientClipping.OnDevice.of(squaredSum, settings.maxGradNorm(), lossScale,
                    kernels);
            if (lossScaling.enabled()) {
                // fp16: whether the step is skipped is decided now, so its norm is read now
                double norm = clip.norm().getDouble();
                unreadSteps.gradientNorm(norm);
                if (!Double.isFinite(norm)) {
                    // a non-finite loss gives non-finite gradients: read the losses so that it fails as a loss, at
                    // its step (fp16 scaling cannot fix the loss, whose forward pass is not scaled)
                    readUnreadSteps();
                    // overflow under fp16 loss scaling: skip the update (weights and AdamW moments untouched)
                    zeroGradients(localLabelTokens);
                    return new StepResult(labelTokens, tokens, false);
                }
            } else {
                // fp32/bf16: a non-finite norm fails the run when the step is read, before anything is written
                unreadSteps.gradientNorm(clip.norm());
            }
            // temporaries of the update are freed with the scope; moments are not
            try (NDScope updateScope = new NDScope()) {
                if (grads == null) {
                    optimizer.stepOnStoredGradients(lr, clip.factor());
                } else {
                    optimizer.step(grads, lr, clip.factor());
                }
            }
            zeroGradients(localLabelTokens);
        }
        return new StepResult(labelTokens, tokens, true);
    }

    /** Pairs and learned tokens of the chosen rows in the step, over all ranks. */
    private double[] pairCounts(List<Batch> group, boolean distributed) {
        double[] counts = new double[2];
        for (Batch b : group) {
            int n = b.rows() / 2;
            counts[0] += n;
            for (int r = 0; r < n; r++) {
                counts[1] += Labels.learnedTokens(b.labels(), r * b.length(), (r + 1) * b.length());
            }
        }
        return distributed ? collective.allReduceSum(counts) : counts;
    }

    /**
     * Forward + backward of one pair batch: the gradient of the step's mean preference loss (plus ORPO's
     * token-mean SFT loss on the chosen rows), times the loss scale. Returns this batch's share of the step
     * loss times the step's label tokens, so that, summed over the step and divided by them, the logged
     * loss is the step's preference loss.
     */
    private double preferenceForwardBackward(Batch batch, ForwardContext ctx, double lossScale, double[] pairCounts,
            long labelTokens) {
        PreferenceObjective.Result r = objective.forwardBackward(batch, ctx, backprop, lossScale / pairCounts[0],
                pairCounts[1] == 0 ? 0 : lossScale / pairCounts[1], null);
        double share = 0;
        for (PairLoss p : r.pairs()) {
            share += p.loss() / pairCounts[0];
            preferenceSinceLog.add(p, p.loss());
        }
        if (pairCounts[1] > 0) {
            share += r.chosenNll() / pairCounts[1];
        }
        return share * labelTokens;
    }

    /** Parameters only have gradients when this rank ran a backward pass in the step. */
    private void zeroGradients(long localLabelTokens) {
        if (localLabelTokens == 0) {
            return;
        }
        if (everyParameterHasAGradient(localLabelTokens)) {
            kernels.zeroGradients(List.copyOf(params.values()));
        } else {
            for (NDArray p : params.values()) {
                if (Autograd.hasStoredGradient(p)) {
                    Autograd.zeroGradient(p);
                }
            }
        }
    }

    /**
     * Whether every trained tensor holds a gradient, asked once after the first backward pass of this rank: they
     * are zeroed in place afterwards, never dropped, so the answer stays.
     */
    private boolean everyParameterHasAGradient(long localLabelTokens) {
        if (everyParameterHasAGradient == null) {
            if (localLabelTokens == 0) {
                return false;
            }
            everyParameterHasAGradient = params.values().stream().allMatch(Autograd::hasStoredGradient);
        }
        return everyParameterHasAGradient;
    }

    /** The gradients as tensors in Java: a rank without a backward pass in the step contributes zeros. */
    private Map<String, NDArray> handedOverGradients(long localLabelTokens, boolean distributed, NDManager scope) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray g = localLabelTokens > 0 ? e.getValue().getGradient()
                    : scope.zeros(e.getValue().getShape(), DataType.FLOAT32);
            g.attach(scope);
            grads.put(e.getKey(), g);
        }
        return distributed ? allReduce(grads, scope) : grads;
    }

    /**
     * Sums the gradients of all ranks: every gradient is flattened and concatenated, in a fixed order, into
     * one contiguous fp32 tensor on its device, which the collective reduces in place (NCCL on the device
     * memory; TCP through the host); the returned gradients are views of that tensor in their shapes.
     */
    private Map<String, NDArray> allReduce(Map<String, NDArray> grads, NDManager scope) {
        List<NDArray> parts = new ArrayList<>();
        for (NDArray g : grads.values()) {
            NDArray part = g.reshape(-1);
            part.attach(scope);
            parts.add(part);
        }
        NDArray flat = kernels.catRows(parts);
        flat.attach(scope);
        collective.allReduceSumInPlace(flat);
        Map<String, NDArray> out = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> e : grads.entrySet()) {
            long n = e.getValue().size();
            NDArray summed = flat.get(new NDIndex().addSliceDim(offset, offset + n))
                    .reshape(e.getValue().getShape());
            summed.attach(scope);
            offset += n;
            out.put(e.getKey(), summed);
        }
        return out;
    }

    /**
     * Forward + backward of one micro-batch; returns its unscaled sum of NLL, unread (fp64 scalar under
     * {@link UnreadSteps#manager()}), or null when the micro-batch has no label tokens.
     */
    private NDArray forwardBackward(Batch batch, ForwardContext ctx, double gradScale) {
        CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
        if (targets.size() == 0) {
            return null;
        }
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray nll = backprop.run(BatchTensors.of(scope, batch), ctx, hidden -> loss.backwardOnDevice(hidden, targets, gradScale));
            nll.attach(unreadSteps.manager());
            return nll;
        }
    }

    /** Exact eval loss: sum of token NLL over the whole eval set / number of label tokens. */
    public double evaluate() {
        return evaluateOn(eval);
    }

    private double evaluateOn(List<Batch> eval) {
        if (objective != null) {
            return evaluatePreference(eval);
        }
        double sum = 0;
        long count = 0;
        Autograd.disable();
        ForwardContext ctx = ForwardContext.inference(kernels);
        for (Batch batch : eval) {
            CausalLmLoss.Targets targets = CausalLmLoss.targets(batch);
            if (targets.size() == 0) {
                continue;
            }
            try (NDManager scope = model.manager().newSubManager()) {
                BatchTensors t = BatchTensors.of(scope, batch);
                NDArray hidden = model.hiddenStates(t.ids(), t.positions(), t.mask(), null, ctx);
                sum += loss.nllSum(hidden, targets);
                count += targets.size();
            }
        }
        if (collective.worldSize() > 1) {
            double[] reduced = collective.allReduceSum(new double[] {sum, count});
            sum = reduced[0];
            count = Math.round(reduced[1]);
        }
        if (count == 0) {
            throw new TrainingException(FailureReason.BAD_DATA, "the eval set has no label tokens (every label is -100)");
        }
        return sum / count;
    }

    /**
     * The preference methods' exact eval loss: the mean preference loss over all eval pairs (plus, for ORPO, the
     * token-mean NLL of the chosen replies); the reward metrics are kept for {@link #preferenceEval()}.
     */
    private double evaluatePreference(List<Batch> eval) {
        PreferenceMetrics metrics = new PreferenceMetrics();
        double nll = 0;
        double tokens = 0;
        for (Batch batch : eval) {
            PreferenceObjective.Result r = objective.evaluate(batch, null);
            r.pairs().forEach(p -> metrics.add(p, p.loss()));
            nll += r.chosenNll();
            tokens += r.chosenTokens();
        }
        double[] sums = metrics.sums();
        double[] all = java.util.Arrays.copyOf(sums, sums.length + 2);
        all[sums.length] = nll;
        all[sums.length + 1] = tokens;
        if (collective.worldSize() > 1) {
            all = collective.allReduceSum(all);
        }
        PreferenceMetrics merged = PreferenceMetrics.of(java.util.Arrays.copyOf(all, sums.length));
        if (merged.pairs() == 0) {
            throw new TrainingException(FailureReason.BAD_DATA, "the eval set has no preference pairs");
        }
        preferenceEval = merged;
        double sft = all[sums.length + 1] > 0 ? all[sums.length] / all[sums.length + 1] : 0;
        return merged.meanLoss() + sft;
    }

    /**
     * The reward metrics of the training pairs since the previous log step, all ranks, as of the latest log step
     * (dpo, orpo; the pairs' policy before their update); null for SFT or before the first log step.
     */
    public PreferenceMetrics preferenceTrain() {
        return preferenceTrain;
    }

    /** The reward metrics of the latest evaluation (dpo, orpo); null for SFT or before the first one. */
    public PreferenceMetrics preferenceEval() {
        return preferenceEval;
    }

    public LoraModel lora() {
        return lora;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public TrainingState state() {
        return state;
    }

    public TrainingSettings settings() {
        return settings;
    }

    public long totalSteps() {
        return totalSteps;
    }

    public LrSchedule schedule() {
        return schedule;
    }
}
