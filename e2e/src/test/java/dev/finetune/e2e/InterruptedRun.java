package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;

/**
 * A quickstart job interrupted right after its first checkpoint, trained beside the same spec never interrupted
 * ({@link TestNamespace#createSideBySideQuickstartJobs}): the interruption must come while it is still training
 * (before the last epoch), and attempt 2 must resume from the checkpoint and end with the reference's eval losses,
 * epoch by epoch.
 */
final class InterruptedRun {

    private static final int EPOCHS = 4;

    private final TestNamespace ns;
    private final String job;
    private final String reference;

    InterruptedRun(TestNamespace ns, String job, String reference) {
        this.ns = ns;
        this.job = job;
        this.reference = reference;
    }

    /**
     * Waits for the job's first checkpoint, runs {@code interruption} and asserts that the job was still training
     * just before it; {@code what} names the interruption in the log and the assertion ("preempted", "suspended").
     */
    void interruptAfterTheFirstCheckpoint(String what, Runnable interruption) {
        await(job + " checkpointed").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> ns.condition(job, "Checkpointed").startsWith("True "));
        // read just before the interruption: afterwards the operator may already show the next phase
        JsonNode before = ns.job(job).path("status");
        interruption.run();
        System.out.println("[e2e] " + what + " at epoch " + before.at("/progress/epoch").asText() + ", checkpoint "
                + before.at("/lastCheckpoint/path").asText());
        assertThat(before.path("phase").asText() + " epoch " + before.at("/progress/epoch").asInt())
                .as("still training when " + what + " (the interruption must come before the last epoch)")
                .matches("Training epoch [1-" + (EPOCHS - 1) + "]");
    }

    /** The job Succeeded as attempt 2 after {@code restarts} restarts (an interruption by the user is none). */
    void assertSucceededAsAttempt2(int restarts) {
        assertThat(ns.awaitTerminal(job, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.field(job, "/status/attempt") + " " + ns.field(job, "/status/restarts")).as("attempt restarts")
                .isEqualTo("2 " + restarts);
    }

    /** The message of the job's first Event with this reason, printed; "(no ... event)" when there is none. */
    String event(String reason) {
        String message = ns.events(job).stream().filter(e -> reason.equals(e.getReason())).map(Event::getMessage)
                .findFirst().orElse("(no " + reason + " event)");
        System.out.println("[e2e] " + message);
        return message;
    }

    /** Attempt 2's worker resumed from the checkpoint, and the run's eval losses are the uninterrupted reference's. */
    void assertResumedWithTheReferencesEvalLosses() {
        assertResumedWithTheReferencesEvalLosses(2);
    }

    /**
     * The worker of {@code attempt} resumed from the checkpoint (attempt 1 when the same worker Job ran again, as after
     * Kueue's preemption), and the run's eval losses are the uninterrupted reference's.
     */
    void assertResumedWithTheReferencesEvalLosses(int attempt) {
        List<Pod> workers = ns.workers(job, attempt);
        assertThat(workers).as("attempt " + attempt + "'s worker pod").hasSize(1);
        assertThat(ns.log(workers.getFirst().getMetadata().getName())).contains("resumed from");

        assertThat(ns.awaitTerminal(reference, Duration.ofMinutes(10))).isEqualTo("Succeeded");
        assertThat(ns.evalLosses(job)).as("the resumed run's eval losses").hasSize(EPOCHS)
                .isEqualTo(ns.evalLosses(reference));
    }
}
