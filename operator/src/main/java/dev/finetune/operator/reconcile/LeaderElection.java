package dev.finetune.operator.reconcile;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Lease {@code finetune-operator} in the operator's own namespace: with two replicas one reconciles and the
 * other waits to take over. Active in the prod profile only (quarkus.operator-sdk.activate-leader-election-for-profiles).
 */
public class LeaderElection {

    public static final String LEASE_NAME = "finetune-operator";

    /**
     * A replica that loses the lease exits (exitOnStopLeading), so no pod reconciles without holding it. This
     * constructor sets that; JOSDK 5.3's {@code LeaderElectionConfigurationBuilder.build()} does not.
     */
    @Produces
    @Singleton
    @SuppressWarnings("removal")
    LeaderElectionConfiguration leaderElection() {
        return new LeaderElectionConfiguration(LEASE_NAME);
    }
}
