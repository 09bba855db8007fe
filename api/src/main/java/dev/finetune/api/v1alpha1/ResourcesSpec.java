package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Where and on what the workers run. */
@JsonClassDescription("Where and on what the workers run: GPUs per worker, worker count, CPU/memory, placement.")
public class ResourcesSpec {

    /**
     * A positive Kubernetes quantity for CEL: an integer above 0, or a string in the API server's quantity syntax (a
     * number with an optional binary or decimal suffix or an integer exponent) without a minus sign. The CRD generator
     * gives a quantity field no pattern, so without this rule "4GB" or "two" would be accepted here and refused only
     * when the operator creates the worker pods. The regex is kept short: the API server prices a CEL match by the
     * regex's length times the string's possible length.
     */
    public static final String POSITIVE_QUANTITY = "type(self) == int ? self > 0 : "
            + "self.matches('^[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$')";
    private static final String QUANTITY_MESSAGE = "must be a positive Kubernetes quantity: a number with an optional "
            + "suffix, e.g. 8, 500m, 64Gi or 1.5G (not 4GB, 64gi or two)";

    @Default("1")
    @Min(0)
    @Max(16)
    @JsonPropertyDescription("GPUs per worker; one training process per GPU. 0 trains on CPU (small models, tests).")
    private int gpus = 1;

    @Default("1")
    @Min(1)
    @Max(256)
    @JsonPropertyDescription("Worker pods, started and restarted as one gang; world size is workers x max(gpus, 1).")
    private int workers = 1;

    @ValidationRule(value = POSITIVE_QUANTITY, message = "cpu " + QUANTITY_MESSAGE)
    @JsonPropertyDescription("CPU request and limit per worker, e.g. 8.")
    private Quantity cpu;

    @ValidationRule(value = POSITIVE_QUANTITY, message = "memory " + QUANTITY_MESSAGE)
    @JsonPropertyDescription("Memory request and limit per worker, e.g. 64Gi.")
    private Quantity memory;

    @ValidationRule(value = POSITIVE_QUANTITY, message = "sharedMemory " + QUANTITY_MESSAGE)
    @JsonPropertyDescription("Size of /dev/shm per worker (NCCL and data loading use it). Default: half of memory, else 1Gi.")
    private Quantity sharedMemory;

    @Default("nvidia.com/gpu")
    @Pattern("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9][-A-Za-z0-9_.]*$")
    @JsonPropertyDescription("Extended resource name requested for GPUs, e.g. nvidia.com/gpu or amd.com/gpu.")
    private String gpuResourceName = "nvidia.com/gpu";

    @Size(max = 64)
    @JsonPropertyDescription("Node labels the workers must run on, e.g. {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}.")
    private Map<String, String> nodeSelector;

    @Size(max = 64)
    @JsonPropertyDescription("Tolerations for the workers, e.g. for tainted GPU nodes.")
    private List<Toleration> tolerations;

    @Size(max = 253)
    @JsonPropertyDescription("PriorityClass of the workers.")
    private String priorityClassName;

    /** Training processes across the gang. */
    public int worldSize() {
        return workers * Math.max(gpus, 1);
    }

    public int getGpus() {
        return gpus;
    }

    public void setGpus(int gpus) {
        this.gpus = gpus;
    }

    public int getWorkers() {
        return workers;
    }

    public void setWorkers(int workers) {
        this.workers = workers;
    }

    public Quantity getCpu() {
        return cpu;
    }

    public void setCpu(Quantity cpu) {
        this.cpu = cpu;
    }

    public Quantity getMemory() {
        return memory;
    }

    public void setMemory(Quantity memory) {
        this.memory = memory;
    }

    public Quantity getSharedMemory() {
        return sharedMemory;
    }

    public void setSharedMemory(Quantity sharedMemory) {
        this.sharedMemory = sharedMemory;
    }

    public String getGpuResourceName() {
        return gpuResourceName;
    }

    public void setGpuResourceName(String gpuResourceName) {
        this.gpuResourceName = gpuResourceName;
    }

    public Map<String, String> getNodeSelector() {
        return nodeSelector;
    }

    public void setNodeSelector(Map<String, String> nodeSelector) {
        this.nodeSelector = nodeSelector;
    }

    public List<Toleration> getTolerations() {
        return tolerations;
    }

    public void setTolerations(List<Toleration> tolerations) {
        this.tolerations = tolerations;
    }

    public String getPriorityClassName() {
        return priorityClassName;
    }

    public void setPriorityClassName(String priorityClassName) {
        this.priorityClassName = priorityClassName;
    }
}
