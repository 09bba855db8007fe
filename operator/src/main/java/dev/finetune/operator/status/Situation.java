package dev.finetune.operator.status;

import dev.finetune.api.v1alpha1.CheckpointRef;
import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.operator.status.Conditions.Desired;
import dev.finetune.operator.validation.ValidationResult;

/**
 * What the planner concluded, in the terms conditions are made of.
 *
 * @param workersReady the WorkersReady condition
 * @param training the Training condition
 * @param failed the Failed condition (True only in phase Failed)
 * @param outcome reason and message of the terminal outcome (phase Succeeded or Failed), else of the current activity
 * @param stalledReason set when nothing will change without someone acting (bad image, missing PVC)
 */
public record Situation(Phase phase, ValidationResult validation, Desired workersReady, Desired training, Desired failed,
        String outcomeReason, String outcomeMessage, String stalledReason, String stalledMessage, CheckpointRef checkpoint,
        boolean suspended) {
}
