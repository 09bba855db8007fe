package dev.finetune.operator.reconcile;

import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * volumeBindingMode of StorageClasses, read only for PVCs that are still Pending (a WaitForFirstConsumer
 * claim binds when the first worker is scheduled, so it must not block validation). Cached for a minute.
 */
@ApplicationScoped
public class StorageClassModes {

    private record Entry(Optional<String> mode, Instant readAt) {
    }

    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    @Inject
    KubernetesClient client;

    public Optional<String> bindingMode(String storageClass) {
        Entry entry = cache.get(storageClass);
        if (entry != null && Duration.between(entry.readAt(), Instant.now()).toSeconds() < 60) {
            return entry.mode();
        }
        Optional<String> mode;
        try {
            StorageClass sc = client.storage().v1().storageClasses().withName(storageClass).get();
            mode = Optional.ofNullable(sc).map(StorageClass::getVolumeBindingMode);
        } catch (KubernetesClientException e) {
            mode = Optional.empty();
        }
        cache.put(storageClass, new Entry(mode, Instant.now()));
        return mode;
    }
}
