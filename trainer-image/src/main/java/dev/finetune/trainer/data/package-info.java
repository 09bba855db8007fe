/**
 * Training data: from dataset files to token ids, labels, batches and a report.
 *
 * <p>Entry point: {@link dev.finetune.trainer.data.DatasetPipeline#prepare}, returning a
 * {@link dev.finetune.trainer.data.PreparedDataset} (train / eval samples, curriculum stages, a
 * {@link dev.finetune.trainer.data.report.DatasetReport}) whose batchers yield
 * {@link dev.finetune.trainer.data.batch.Batch}es, the train loop's own batch type. The contract with the trainer:
 * <ul>
 *   <li>labels are aligned with input ids ({@code -100} where not learned) and the trainer shifts them;</li>
 *   <li>the loss is normalised by learned tokens ({@code Batch.labelTokens()} summed over accumulation steps and
 *       ranks), never by rows;</li>
 *   <li>attention follows {@code Batch.segmentIds()}: causal within a segment, nothing across segments or into
 *       padding (segment 0); positions are {@code Batch.positionIds()};</li>
 *   <li>every rank calls {@code prepare} with the same spec and seed and its own rank; training batch counts are
 *       equal on all ranks, eval batches are disjoint;</li>
 *   <li>bad data is a {@link dev.finetune.trainer.data.DatasetException} (a permanent failure) with location,
 *       field and {@code hint()}.</li>
 * </ul>
 * Sub-packages by concern: {@code format} (reading and record shapes), {@code template} (chat templates, rendered by
 * the {@code jinja} module), {@code tokenize} (the model's tokenizer), {@code label} (rendering and masking),
 * {@code batch} (padding, packing, shuffling, sharding), {@code curriculum} (selection and stages),
 * {@code report}. User documentation: docs/data.md.
 */
package dev.finetune.trainer.data;
