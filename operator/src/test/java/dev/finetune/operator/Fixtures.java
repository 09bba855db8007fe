package dev.finetune.operator;

import dev.finetune.api.trainer.ProgressReport;
import dev.finetune.api.trainer.TrainerState;
import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.DatasetSpec;
import dev.finetune.api.v1alpha1.EpochRecord;
import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.ModelSpec;
import dev.finetune.api.v1alpha1.OutputSpec;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.PvcPath;
import dev.finetune.operator.children.NetworkPolicyRenderer;
import dev.finetune.operator.children.RenderSettings;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;

/** Jobs, claims and reports for tests. */
public final class Fixtures {

    private Fixtures() {
    }

    /** The operator's default settings with {@code image} for GPU and CPU jobs, the API server on any address. */
    public static RenderSettings renderSettings(String image) {
        return new RenderSettings(image, image, "IfNotPresent", 1000, 1000, 120, 1800, 900, true, List.of(),
                List.of(NetworkPolicyRenderer.tcpPort(443), NetworkPolicyRenderer.tcpPort(6443)));
    }

    /** A 2-worker x 4-GPU job reading claims models and data and writing to outputs:runs/&lt;name&gt;. */
    public static FineTuneJob job(String namespace, String name) {
        FineTuneJob job = new FineTuneJob();
        job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).withGeneration(1L)
                .withUid("uid-" + name).withCreationTimestamp("2026-01-01T00:00:00Z").build());
        FineTuneJobSpec spec = new FineTuneJobSpec();
        ModelSpec model = new ModelSpec();
        model.setPvc(new PvcPath("models", "Qwen3-0.6B"));
        spec.setModel(model);
        DatasetSpec dataset = new DatasetSpec();
        dataset.setPvc(new PvcPath("data", "train.jsonl"));
        spec.setDataset(dataset);
        OutputSpec output = new OutputSpec();
        output.setPvc(new PvcPath("outputs", "runs/" + name));
        spec.setOutput(output);
        spec.getResources().setGpus(4);
        spec.getResources().setWorkers(2);
        spec.getResources().setMemory(new Quantity("64Gi"));
        spec.getResources().setCpu(new Quantity("8"));
        job.setSpec(spec);
        return job;
    }

    public static PersistentVolumeClaim pvc(String namespace, String name, String phase) {
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteMany").withStorageClassName("standard")
                    .withNewResources().addToRequests("storage", new Quantity("10Gi")).endResources().endSpec()
                .withNewStatus().withPhase(phase).endStatus()
                .build();
    }

    public static ProgressReport report(int attempt, long sequence, TrainerState state, int epoch, long step, Double evalLoss,
            List<EpochRecord> history, CheckpointRef checkpoint) {
        Progress progress = new Progress();
        progress.setEpoch(epoch);
        progress.setTotalEpochs(3);
        progress.setStep(step);
        progress.setTotalSteps(300L);
        progress.setEvalLoss(evalLoss);
        progress.setPerplexity(evalLoss == null ? null : Math.exp(evalLoss));
        progress.setTokensPerSecond(1234.5);
        progress.setEtaSeconds(4320L);
        return new ProgressReport(ProgressReport.SCHEMA_VERSION, sequence, attempt, state, progress, history, checkpoint, null, null);
    }

    public static EpochRecord eval(int epoch, long step, double trainLoss, double evalLoss) {
        return new EpochRecord(epoch, step, null, trainLoss, evalLoss, Math.exp(evalLoss), null, null);
    }

    public static CheckpointRef checkpoint(int epoch, long step) {
        return new CheckpointRef(epoch, step, "runs/ckpt/step-" + step, null);
    }
}
