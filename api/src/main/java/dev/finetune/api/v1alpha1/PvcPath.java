package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A file or directory on a PersistentVolumeClaim in the job's namespace. */
@JsonClassDescription("A file or directory on a PersistentVolumeClaim in the job's namespace.")
public class PvcPath {

    /** A CEL (RE2) character class of the ASCII control characters, which no path on a volume may contain. */
    public static final String CONTROL_CHARACTER = "[\\\\x00-\\\\x1f\\\\x7f]";

    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of the PersistentVolumeClaim (same namespace as the FineTuneJob). "
            + "With `finetune run`, map it to a local directory with --volume <claimName>=<dir>.")
    private String claimName;

    @Required
    @Size(min = 1, max = 1024)
    @ValidationRule(value = "!self.startsWith('/') && !self.matches('(^|/)[.][.](/|$)')",
            message = "path must be relative to the volume's root and must not contain '..' (use '.' for the root itself)")
    @ValidationRule(value = "!self.matches('" + PvcPath.CONTROL_CHARACTER + "')",
            message = "path must not contain control characters (NUL, tab, newline, ...): write the file or directory "
                    + "name as it is on the volume")
    @JsonPropertyDescription("Path inside the volume, relative to its root; '.' is the root itself.")
    private String path;

    public PvcPath() {
    }

    public PvcPath(String claimName, String path) {
        this.claimName = claimName;
        this.path = path;
    }

    public String getClaimName() {
        return claimName;
    }

    public void setClaimName(String claimName) {
        this.claimName = claimName;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }
}
