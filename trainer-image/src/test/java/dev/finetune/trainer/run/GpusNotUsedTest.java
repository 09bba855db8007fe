package dev.finetune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/** The warning of a job that asks for GPUs and trains on the CPU, decided without needing a GPU either way. */
class GpusNotUsedTest {

    @Test
    void aGpuJobOnTheCpuIsWarnedAbout() {
        assertThat(FineTuneRun.gpusNotUsed(2, Device.cpu())).hasValueSatisfying(w -> assertThat(w)
                .startsWith("warning: spec.resources.gpus is 2, but libtorch sees no GPU here")
                .contains("set resources.gpus: 0 to train on the CPU on purpose"));
    }

    @Test
    void aGpuJobOnAGpuAndACpuJobOnTheCpuAreNot() {
        assertThat(FineTuneRun.gpusNotUsed(1, Device.gpu())).isEmpty();
        assertThat(FineTuneRun.gpusNotUsed(0, Device.cpu())).isEmpty();
    }
}
