/**
 * Preference training (training.method dpo and orpo): the losses on the log-probabilities of a pair's
 * chosen and rejected replies, their gradients with respect to those log-probabilities, and the reward
 * metrics. The formulas follow TRL's DPOTrainer and ORPOTrainer (docs/trainer.md); the parity goldens
 * under goldens/preference are computed by TRL itself.
 */
package dev.finetune.trainer.preference;
