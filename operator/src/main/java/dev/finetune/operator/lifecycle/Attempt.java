package dev.finetune.operator.lifecycle;

import java.time.Instant;

/**
 * One attempt of the gang as the planner decides it: what differs between the worker Jobs of one FineTuneJob.
 *
 * @param number 1-based; the worker Job is {@code <job>-attempt-<number>}
 * @param restarts gang restarts counted when this attempt started
 * @param resumeFrom the checkpoint it resumes from (relative to the output volume root); null to start fresh
 * @param deadlineBase when the activeDeadlineSeconds clock started: the first start, or the latest resume after a
 *                     suspension; gang restarts carry it over
 * @param startReason why it started: Started, Restarted (after a failure), Resumed or RestartRequested
 */
public record Attempt(int number, int restarts, String resumeFrom, Instant deadlineBase, String startReason) {
}
