package dev.finetune.api.trainer;

import java.nio.file.Path;

/** Where a PersistentVolumeClaim's root is, for the process that reads the config. */
@FunctionalInterface
public interface VolumeResolver {

    /** Where the operator mounts every claim in a worker pod: one directory per claim name. */
    String IN_CLUSTER_ROOT = "/mnt/volumes";

    /** The local root directory of claim {@code claimName}. */
    Path root(String claimName);

    /** The resolver used in worker pods: {@code /mnt/volumes/<claimName>}. */
    static VolumeResolver inCluster() {
        return claimName -> Path.of(IN_CLUSTER_ROOT, claimName);
    }
}
