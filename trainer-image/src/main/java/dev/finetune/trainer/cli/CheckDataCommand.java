package dev.finetune.trainer.cli;

import dev.finetune.api.trainer.TrainerConfig;
import dev.finetune.trainer.data.PreparedDataset;
import dev.finetune.trainer.data.report.DatasetReportRenderer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code finetune check-data JOB.yaml}: reads and tokenizes the job's whole dataset with the model's own
 * tokenizer and chat template, exactly as a run prepares it, and prints the dataset report. Loads no
 * weights and writes nothing; a bad record ends with exit 65 and its file, line, record and field.
 */
@Command(name = "check-data", description = {"Reads and tokenizes a job's whole dataset with the model's tokenizer and",
        "chat template, prints the dataset report; loads no weights, writes nothing (the output volume need not be mapped)."})
final class CheckDataCommand implements Callable<Integer> {

    @Mixin
    JobOptions jobOptions;

    @Override
    public Integer call() {
        TrainerConfig config = jobOptions.forReading();
        Preflight.paths(config);
        PreparedDataset data = Preflight.dataset(config);
        System.out.println(DatasetReportRenderer.render(data.report()));
        System.out.println("ok: " + config.paths().datasetPath() + ": " + data.report().recordsRead() + " records read, "
                + data.train().size() + " train and " + data.eval().size() + " eval samples");
        return 0;
    }
}
