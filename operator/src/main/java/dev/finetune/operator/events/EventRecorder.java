package dev.finetune.operator.events;

import dev.finetune.api.v1alpha1.FineTuneJob;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Records {@link JobEvent}s as core/v1 Events, each occurrence once. An Event's name is derived from the job's
 * UID and the occurrence key, so a restarted operator that reconciles the same report again gets
 * AlreadyExists instead of a duplicate; a bounded in-memory set saves the API call in the common case.
 */
@ApplicationScoped
public class EventRecorder {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    private static final int REMEMBERED = 50_000;
    static final String COMPONENT = "finetune-operator";

    private final Set<String> recorded = Collections.newSetFromMap(new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    });

    @Inject
    KubernetesClient client;

    public void record(FineTuneJob job, JobEvent event) {
        String name = eventName(job, event.key());
        synchronized (recorded) {
            if (!recorded.add(job.getMetadata().getNamespace() + "/" + name)) {
                return;
            }
        }
        try {
            client.v1().events().inNamespace(job.getMetadata().getNamespace()).resource(render(job, event, name, Instant.now())).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                LOG.debugf("could not record event %s for %s: %s", event.reason(), job.getMetadata().getName(), e.getMessage());
            }
        }
    }

    static Event render(FineTuneJob job, JobEvent event, String name, Instant now) {
        String time = now.truncatedTo(ChronoUnit.SECONDS).toString();
        String message = event.message().length() > 1024 ? event.message().substring(0, 1021) + "..." : event.message();
        return new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(job.getMetadata().getNamespace()).endMetadata()
                .withNewInvolvedObject()
                    .withApiVersion(FineTuneJob.API_VERSION)
                    .withKind("FineTuneJob")
                    .withName(job.getMetadata().getName())
                    .withNamespace(job.getMetadata().getNamespace())
                    .withUid(job.getMetadata().getUid())
                .endInvolvedObject()
                .withType(event.type().name())
                .withReason(event.reason())
                .withMessage(message)
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent("finetune.dev/operator")
                .withFirstTimestamp(time)
                .withLastTimestamp(time)
                .withCount(1)
                .build();
    }

    /** {@code <job>.<hash of uid and key>}: stable per occurrence, unique per job incarnation. */
    static String eventName(FineTuneJob job, String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((job.getMetadata().getUid() + "/" + key).getBytes(StandardCharsets.UTF_8));
            return job.getMetadata().getName() + "." + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
