package dev.finetune.operator.metrics;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobStatus;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.Progress;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Per-job gauges (epoch, eval loss, perplexity, tokens/s, restarts, attempt) and the number of jobs by phase,
 * on the Prometheus endpoint next to JOSDK's reconcile metrics. Values come from the status the operator
 * last wrote; a job's gauges are removed when the job is gone.
 */
@ApplicationScoped
public class JobMetrics {

    public static final String EPOCH = "finetune.job.epoch";
    public static final String EVAL_LOSS = "finetune.job.eval.loss";
    public static final String PERPLEXITY = "finetune.job.perplexity";
    public static final String TOKENS_PER_SECOND = "finetune.job.tokens.per.second";
    public static final String RESTARTS = "finetune.job.restarts";
    public static final String STEP = "finetune.job.step";
    public static final String JOBS = "finetune.jobs";

    @Inject
    MeterRegistry registry;

    private final java.util.concurrent.ScheduledExecutorService sweeper =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "finetune-metrics-sweeper");
                t.setDaemon(true);
                return t;
            });

    /** Removes the gauges of deleted jobs every 30 s (jobs have no finalizer, so no reconcile sees the deletion). */
    @jakarta.annotation.PostConstruct
    void startSweeping() {
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                sweep();
            } catch (RuntimeException e) {
                // the next sweep tries again
            }
        }, 30, 30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @jakarta.annotation.PreDestroy
    void stopSweeping() {
        sweeper.shutdownNow();
    }

    private final Map<String, Sample> samples = new ConcurrentHashMap<>();
    private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();
    private volatile Supplier<Collection<FineTuneJob>> allJobs = List::of;
    private volatile boolean phaseGaugesRegistered;

    /** Latest numbers of one job; gauges read it. */
    static final class Sample {
        volatile FineTuneJobStatus status;
    }

    /** Where "jobs by phase" counts from: the operator's cache of all FineTuneJobs. */
    public synchronized void countPhasesFrom(Supplier<Collection<FineTuneJob>> jobs) {
        this.allJobs = jobs;
        if (!phaseGaugesRegistered) {
            // A registry can outlive this bean (a global registry across application restarts): replace, don't reuse.
            registry.find(JOBS).meters().forEach(registry::remove);
            for (Phase phase : Phase.values()) {
                Gauge.builder(JOBS, this, m -> m.countInPhase(phase))
                        .description("FineTuneJobs by phase")
                        .tags(Tags.of("phase", phase.name()))
                        .register(registry);
            }
            phaseGaugesRegistered = true;
        }
    }

    double countInPhase(Phase phase) {
        return allJobs.get().stream()
                .filter(j -> phase == (j.getStatus() == null || j.getStatus().getPhase() == null ? Phase.Pending : j.getStatus().getPhase()))
                .count();
    }

    public void update(FineTuneJob job, FineTuneJobStatus status) {
        String key = key(job.getMetadata().getNamespace(), job.getMetadata().getName());
        Sample sample = samples.computeIfAbsent(key, k -> register(job));
        sample.status = status;
    }

    /** Drops the gauges of jobs that no longer exist. */
    private void retainOnly(Set<String> namespaceAndNames) {
        for (String key : List.copyOf(samples.keySet())) {
            if (!namespaceAndNames.contains(key)) {
                forget(key);
            }
        }
    }

    public void forget(String namespace, String name) {
        forget(key(namespace, name));
    }

    /** Drops the gauges of jobs missing from the cache. */
    private void sweep() {
        retainOnly(allJobs.get().stream().map(j -> key(j.getMetadata().getNamespace(), j.getMetadata().getName()))
                .collect(Collectors.toSet()));
    }

    private void forget(String key) {
        samples.remove(key);
        List<Meter> registered = meters.remove(key);
        if (registered != null) {
            registered.forEach(registry::remove);
        }
    }

    private Sample register(FineTuneJob job) {
        Sample sample = new Sample();
        Tags tags = Tags.of("namespace", job.getMetadata().getNamespace(), "job", job.getMetadata().getName());
        List<Meter> list = new ArrayList<>();
        list.add(gauge(EPOCH, "Epochs completed", tags, sample, p -> p.getEpoch()));
        list.add(gauge(STEP, "Optimizer steps completed", tags, sample, p -> p.getStep()));
        list.add(gauge(EVAL_LOSS, "Latest eval loss (token-weighted mean NLL)", tags, sample, p -> p.getEvalLoss()));
        list.add(gauge(PERPLEXITY, "Latest eval perplexity", tags, sample, p -> p.getPerplexity()));
        list.add(gauge(TOKENS_PER_SECOND, "Training tokens per second across the gang", tags, sample, p -> p.getTokensPerSecond()));
        registry.find(RESTARTS).tags(tags).meters().forEach(registry::remove);
        list.add(Gauge.builder(RESTARTS, sample, s -> s.status == null ? Double.NaN : s.status.getRestarts())
                .description("Gang restarts so far").tags(tags).strongReference(true).register(registry));
        meters.put(key(job.getMetadata().getNamespace(), job.getMetadata().getName()), list);
        return sample;
    }

    private Meter gauge(String name, String description, Tags tags, Sample sample, java.util.function.Function<Progress, Number> value) {
        registry.find(name).tags(tags).meters().forEach(registry::remove);
        ToDoubleFunction<Sample> read = s -> {
            Progress p = s.status == null ? null : s.status.getProgress();
            Number n = p == null ? null : value.apply(p);
            return n == null ? Double.NaN : n.doubleValue();
        };
        return Gauge.builder(name, sample, read).description(description).tags(tags).strongReference(true).register(registry);
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }
}
