package dev.finetune.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One LoRA fine-tuning run of a decoder LLM: base model and dataset on volumes, LoRA and trainer
 * hyperparameters, GPUs. The operator turns it into trainer workers and reports progress in status.
 *
 * <p>The printer columns answer "how far, how good": {@code kubectl get finetunejobs} shows phase,
 * GPUs, epoch, eval loss and perplexity; {@code -o wide} adds step, ETA, restarts and the Ready condition's
 * message (why a Queued job waits, what a Training one does). Column values
 * come from {@link StatusDisplay}, because JSONPath cannot format "3/10".
 */
@Group(FineTuneJob.GROUP)
@Version(FineTuneJob.VERSION)
@Kind("FineTuneJob")
@Plural("finetunejobs")
@Singular("finetunejob")
@ShortNames("ftj")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "GPUs", jsonPath = ".status.display.gpus", type = Type.STRING)
@AdditionalPrinterColumn(name = "Epoch", jsonPath = ".status.display.epoch", type = Type.STRING)
@AdditionalPrinterColumn(name = "Eval-Loss", jsonPath = ".status.display.evalLoss", type = Type.STRING)
@AdditionalPrinterColumn(name = "PPL", jsonPath = ".status.display.perplexity", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
@AdditionalPrinterColumn(name = "Step", jsonPath = ".status.display.step", type = Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "ETA", jsonPath = ".status.display.eta", type = Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Restarts", jsonPath = ".status.restarts", type = Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Reward-Acc", jsonPath = ".status.display.rewardAccuracy", type = Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.conditions[?(@.type==\"Ready\")].message", type = Type.STRING,
        priority = 1)
public class FineTuneJob extends CustomResource<FineTuneJobSpec, FineTuneJobStatus> implements Namespaced {

    public static final String GROUP = "finetune.dev";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;
    public static final String CRD_NAME = "finetunejobs." + GROUP;
    /**
     * Annotation asking for a restart: set it to the current time (RFC 3339, e.g. {@code 2026-12-06T20:15:00Z});
     * each new value stops the running attempt (its workers checkpoint on SIGTERM) and starts the next one from the
     * last checkpoint, without counting against spec.backoffLimit. The value acted on is kept in
     * {@code status.lastRestartRequest}, so one request restarts once.
     */
    public static final String RESTART_REQUESTED_AT = GROUP + "/restart-requested-at";

    @Override
    protected FineTuneJobStatus initStatus() {
        return new FineTuneJobStatus();
    }
}
