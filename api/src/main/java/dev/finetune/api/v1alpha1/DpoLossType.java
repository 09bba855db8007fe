package dev.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The DPO loss applied to the reward margin {@code h = (logp_c - ref_c) - (logp_r - ref_r)}. */
public enum DpoLossType {
    /** {@code -(1-e) log sigmoid(beta h) - e log sigmoid(-beta h)}, e the label smoothing (Rafailov et al.; cDPO). */
    @JsonProperty("sigmoid") SIGMOID,
    /** {@code (h - 1/(2 beta))^2} (Azar et al., IPO), with log-probs averaged over the completion tokens as TRL does. */
    @JsonProperty("ipo") IPO,
    /** {@code relu(1 - beta h)} (SLiC). */
    @JsonProperty("hinge") HINGE
}
