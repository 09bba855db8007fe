package dev.finetune.operator.validation;

import dev.finetune.api.v1alpha1.FineTuneJob;
import dev.finetune.api.v1alpha1.FineTuneJobSpec;
import dev.finetune.api.v1alpha1.PvcPath;
import dev.finetune.operator.children.Names;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Checks what the API server cannot: the volumes exist and are bound, the output path is not another live
 * job's, the name fits the workers' DNS names. A pure function of its inputs; a bad spec ends in a condition,
 * never in an exception.
 */
public final class JobValidator {

    private static final Pattern DNS_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");

    private JobValidator() {
    }

    /**
     * @param pvcs the PersistentVolumeClaims of the job's namespace, by name
     * @param bindingMode the volumeBindingMode of a StorageClass, when it can be read
     * @param others the other FineTuneJobs of the namespace
     */
    public static ValidationResult validate(FineTuneJob job, Function<String, Optional<PersistentVolumeClaim>> pvcs,
            Function<String, Optional<String>> bindingMode, List<FineTuneJob> others) {
        String name = job.getMetadata().getName();
        if (name.length() > Names.MAX_JOB_NAME_LENGTH || !DNS_1035_LABEL.matcher(name).matches()) {
            return ValidationResult.invalid("InvalidName", "metadata.name \"" + name + "\" must be a DNS label of at most "
                    + Names.MAX_JOB_NAME_LENGTH + " characters (lowercase letters, digits and '-', starting with a letter): "
                    + "worker pods are named <job>-attempt-<n>-<index> and these names must fit 63 characters. "
                    + "Re-create the job with a shorter name.");
        }
        FineTuneJobSpec spec = job.getSpec();
        if (spec.getResources().getGpus() > 0
                && (spec.getResources().getGpuResourceName() == null || spec.getResources().getGpuResourceName().isBlank())) {
            return ValidationResult.invalid("InvalidGpuResource", "spec.resources.gpuResourceName is empty while "
                    + "spec.resources.gpus is " + spec.getResources().getGpus() + "; set it, e.g. nvidia.com/gpu.");
        }
        Map<String, String> claimFields = new LinkedHashMap<>();
        claimFields.putIfAbsent(spec.getModel().getPvc().getClaimName(), "spec.model.pvc.claimName");
        claimFields.putIfAbsent(spec.getDataset().getPvc().getClaimName(), "spec.dataset.pvc.claimName");
        claimFields.putIfAbsent(spec.getOutput().getPvc().getClaimName(), "spec.output.pvc.claimName");
        String namespace = job.getMetadata().getNamespace();
        int workers = spec.getResources().getWorkers();
        String outputClaim = spec.getOutput().getPvc().getClaimName();
        for (Map.Entry<String, String> entry : claimFields.entrySet()) {
            ValidationResult claim = checkClaim(entry.getKey(), entry.getValue(), namespace, pvcs, bindingMode);
            if (!claim.valid()) {
                return claim;
            }
            ValidationResult access = checkAccessModes(pvcs.apply(entry.getKey()).orElseThrow(), entry.getValue(), workers,
                    entry.getKey().equals(outputClaim));
            if (!access.valid()) {
                return access;
            }
        }
        Optional<FineTuneJob> owner = outputOwner(job, others);
        if (owner.isPresent()) {
            PvcPath output = spec.getOutput().getPvc();
            return ValidationResult.waiting("OutputPathInUse", "spec.output.pvc " + output.getClaimName() + ":" + output.getPath()
                    + " overlaps the output of FineTuneJob \"" + owner.get().getMetadata().getName()
                    + "\", which has not finished; this job waits for it (or choose another output path).");
        }
        return ValidationResult.ok();
    }

    private static ValidationResult checkClaim(String claim, String field, String namespace,
            Function<String, Optional<PersistentVolumeClaim>> pvcs, Function<String, Optional<String>> bindingMode) {
        Optional<PersistentVolumeClaim> pvc = pvcs.apply(claim);
        if (pvc.isEmpty()) {
            return ValidationResult.invalid("PvcNotFound", "PersistentVolumeClaim \"" + claim + "\" (" + field
                    + ") does not exist in namespace " + namespace + "; create it, or fix the claim name.");
        }
        String phase = pvc.get().getStatus() == null ? null : pvc.get().getStatus().getPhase();
        if ("Bound".equals(phase)) {
            return ValidationResult.ok();
        }
        if ("Lost".equals(phase)) {
            return ValidationResult.invalid("PvcLost", "PersistentVolumeClaim \"" + claim + "\" (" + field
                    + ") has lost its PersistentVolume; restore the volume or point the job at another claim.");
        }
        String storageClass = pvc.get().getSpec() == null ? null : pvc.get().getSpec().getStorageClassName();
        if (storageClass != null && bindingMode.apply(storageClass).filter("WaitForFirstConsumer"::equals).isPresent()) {
            // It binds when the first worker is scheduled; requiring Bound first would deadlock.
            return ValidationResult.ok();
        }
        return ValidationResult.waiting("PvcNotBound", "PersistentVolumeClaim \"" + claim + "\" (" + field + ") is "
                + (phase == null ? "not bound yet" : phase) + "; the job starts when it is Bound.");
    }

    /**
     * A gang of several pods lands on several nodes; a claim they all mount must allow that: ReadWriteMany for the
     * output claim, ReadWriteMany or ReadOnlyMany for the others. A claim without access modes is not judged.
     */
    private static ValidationResult checkAccessModes(PersistentVolumeClaim pvc, String field, int workers, boolean written) {
        List<String> modes = pvc.getSpec() == null || pvc.getSpec().getAccessModes() == null ? List.of() : pvc.getSpec().getAccessModes();
        if (workers <= 1 || modes.isEmpty()) {
            return ValidationResult.ok();
        }
        boolean shared = modes.contains("ReadWriteMany") || (!written && modes.contains("ReadOnlyMany"));
        if (shared) {
            return ValidationResult.ok();
        }
        return ValidationResult.invalid("PvcAccessMode", "PersistentVolumeClaim \"" + pvc.getMetadata().getName() + "\" (" + field
                + ") has access modes " + modes + ", but the " + workers + " worker pods may run on different nodes and all mount it; "
                + "use a claim with " + (written ? "ReadWriteMany" : "ReadWriteMany or ReadOnlyMany")
                + ", or one worker with more GPUs (spec.resources.workers: 1).");
    }

    /**
     * The job that owns an output path overlapping ours: one not finished that started first, or, when neither
     * started, was created first (ties by name), so two jobs applied together never wait for each other.
     */
    static Optional<FineTuneJob> outputOwner(FineTuneJob job, List<FineTuneJob> others) {
        if (job.getStatus() != null && job.getStatus().getStartTime() != null) {
            return Optional.empty(); // a started job keeps its path
        }
        PvcPath mine = job.getSpec().getOutput().getPvc();
        return others.stream()
                .filter(o -> !o.getMetadata().getName().equals(job.getMetadata().getName()))
                .filter(o -> o.getSpec() != null && o.getSpec().getOutput() != null && o.getSpec().getOutput().getPvc() != null)
                .filter(o -> o.getStatus() == null || o.getStatus().getPhase() == null || !o.getStatus().getPhase().isTerminal())
                .filter(o -> overlaps(mine, o.getSpec().getOutput().getPvc()))
                .filter(o -> precedes(o, job))
                .min(Comparator.comparing(o -> o.getMetadata().getName()));
    }

    static boolean overlaps(PvcPath a, PvcPath b) {
        if (!a.getClaimName().equals(b.getClaimName())) {
            return false;
        }
        Path pa = Path.of("/").resolve(a.getPath()).normalize();
        Path pb = Path.of("/").resolve(b.getPath()).normalize();
        return pa.startsWith(pb) || pb.startsWith(pa);
    }

    private static boolean precedes(FineTuneJob other, FineTuneJob job) {
        boolean otherStarted = other.getStatus() != null && other.getStatus().getStartTime() != null;
        if (otherStarted) {
            return true;
        }
        String a = other.getMetadata().getCreationTimestamp();
        String b = job.getMetadata().getCreationTimestamp();
        if (a != null && b != null && !a.equals(b)) {
            return a.compareTo(b) < 0; // RFC 3339 UTC strings sort in time order
        }
        return other.getMetadata().getName().compareTo(job.getMetadata().getName()) < 0;
    }
}
