package dev.finetune.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.api.v1alpha1.Phase;
import dev.finetune.api.v1alpha1.Progress;
import dev.finetune.api.v1alpha1.ResourcesSpec;
import dev.finetune.api.v1alpha1.StatusDisplay;
import org.junit.jupiter.api.Test;

class DisplaysTest {

    static ResourcesSpec resources(int workers, int gpus) {
        ResourcesSpec r = new ResourcesSpec();
        r.setWorkers(workers);
        r.setGpus(gpus);
        return r;
    }

    @Test
    void gpusColumn() {
        assertThat(Displays.gpus(resources(1, 1))).isEqualTo("1");
        assertThat(Displays.gpus(resources(1, 8))).isEqualTo("8");
        assertThat(Displays.gpus(resources(2, 8))).isEqualTo("2x8");
        assertThat(Displays.gpus(resources(1, 0))).isEqualTo("cpu");
        assertThat(Displays.gpus(resources(3, 0))).isEqualTo("3xcpu");
    }

    @Test
    void fourSignificantDigits() {
        assertThat(Displays.significant(2.5731234)).isEqualTo("2.573");
        assertThat(Displays.significant(13.1)).isEqualTo("13.10");
        assertThat(Displays.significant(0.081314)).isEqualTo("0.08131");
        assertThat(Displays.significant(1234.56)).isEqualTo("1235");
        assertThat(Displays.significant(15000.0)).isEqualTo("15000");
        assertThat(Displays.significant(3.2e7)).isEqualTo("3.200e+07");
        assertThat(Displays.significant(Double.NaN)).isEqualTo("NaN");
        assertThat(Displays.significant(null)).isNull();
    }

    @Test
    void etaAsHoursAndMinutes() {
        assertThat(Displays.duration(45L)).isEqualTo("45s");
        assertThat(Displays.duration(720L)).isEqualTo("12m");
        assertThat(Displays.duration(4320L)).isEqualTo("1h12m");
        assertThat(Displays.duration(183600L)).isEqualTo("2d3h");
        assertThat(Displays.duration(null)).isNull();
    }

    @Test
    void epochAndStepAsFractionsAndEtaOnlyWhileRunning() {
        Progress p = new Progress();
        p.setEpoch(3);
        p.setTotalEpochs(10);
        p.setStep(120L);
        p.setTotalSteps(400L);
        p.setEvalLoss(2.573);
        p.setPerplexity(Math.exp(2.573));
        p.setEtaSeconds(4320L);
        StatusDisplay training = Displays.of(resources(1, 1), p, Phase.Training);
        assertThat(training.getEpoch()).isEqualTo("3/10");
        assertThat(training.getStep()).isEqualTo("120/400");
        assertThat(training.getPerplexity()).isEqualTo("13.11");
        assertThat(training.getEta()).isEqualTo("1h12m");
        assertThat(Displays.of(resources(1, 1), p, Phase.Succeeded).getEta()).isNull();
        assertThat(Displays.of(resources(1, 1), null, Phase.Pending).getEpoch()).isNull();
    }

    @Test
    void aPreferenceJobShowsRewardAccuracyAndNoPerplexity() {
        Progress p = new Progress();
        p.setEvalLoss(0.41268);
        p.setRewardAccuracy(0.9375);
        p.setRewardMargin(2.5312);
        StatusDisplay display = Displays.of(resources(1, 1), p, Phase.Training);
        assertThat(display.getEvalLoss()).isEqualTo("0.4127");
        assertThat(display.getRewardAccuracy()).isEqualTo("0.9375");
        assertThat(display.getPerplexity()).isNull();
        Progress sft = new Progress();
        sft.setEvalLoss(2.573);
        assertThat(Displays.of(resources(1, 1), sft, Phase.Training).getRewardAccuracy()).isNull();
    }
}
